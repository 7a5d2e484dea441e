{{
    config(
        materialized="change_driven",
        recompute_by=["event_month", "event_name"],
        changed_keys=[
            {
                "log": "int_person_event_months",
                "select": {"event_month": "event_month", "event_name": "event_name"},
            },
            {
                "log": "int_events",
                "select": {
                    "event_month": "date_trunc('month', activity_date::timestamp)::date",
                    "event_name": "event_name",
                },
                "where": "person_id is null",
                "net": true,
            },
        ],
        change_logs=["int_person_event_months", "int_events"],
        indexes=[{"columns": ["event_month", "event_name"], "unique": True}],
    )
}}

{#-
    Events and distinct persons per UTC calendar month and event name, from the
    per-person monthly counts (int_person_event_months) plus the calls that carry
    no id. An incremental run adjusts the stored counts of the months and events
    that changed by the difference of the change logs' signed rows; it never
    recounts a month.
-#}

with

{%- if change_driven_is_incremental() %}

    changes as (
        select
            event_month,
            event_name,
            sum(change_sign * event_count) as event_count_change,
            sum(change_sign) as person_count_change
        from {{ change_log("int_person_event_months") }} as person_changes
        group by event_month, event_name
        union all
        select
            date_trunc('month', activity_date::timestamp)::date as event_month,
            event_name,
            sum(change_sign) as event_count_change,
            0 as person_count_change
        from {{ change_log("int_events") }} as idless_changes
        where person_id is null
        group by date_trunc('month', activity_date::timestamp), event_name
    ),

    counted as (
        select
            changes.event_month,
            changes.event_name,
            coalesce(max(stored.event_count), 0)
            + sum(changes.event_count_change) as event_count,
            coalesce(max(stored.person_count), 0)
            + sum(changes.person_count_change) as person_count
        from changes
        left join {{ this }} as stored
            on
                changes.event_month = stored.event_month
                and changes.event_name = stored.event_name
        group by changes.event_month, changes.event_name
    )
{%- else %}

    counted as (
        select
            event_month,
            event_name,
            sum(event_count) as event_count,
            sum(person_count) as person_count
        from (
            select
                event_month,
                event_name,
                sum(event_count) as event_count,
                count(*) as person_count
            from {{ ref("int_person_event_months") }}
            group by event_month, event_name
            union all
            select
                date_trunc('month', activity_date::timestamp)::date as event_month,
                event_name,
                count(*) as event_count,
                0 as person_count
            from {{ ref("int_events") }}
            where person_id is null
            group by date_trunc('month', activity_date::timestamp), event_name
        ) as parts
        group by event_month, event_name
    )
{%- endif %}

select
    event_month,
    event_name,
    event_count::bigint as event_count,
    person_count::bigint as person_count
from counted
where event_count > 0
