{{
    config(
        materialized="change_driven",
        recompute_by=["activity_date", "event_name"],
        changed_keys=[
            {
                "log": "int_person_event_days",
                "select": {"activity_date": "activity_date", "event_name": "event_name"},
            },
            {
                "log": "int_events",
                "select": {"activity_date": "activity_date", "event_name": "event_name"},
                "where": "person_id is null",
                "net": true,
            },
        ],
        change_logs=["int_person_event_days", "int_events"],
        indexes=[{"columns": ["activity_date", "event_name"], "unique": True}],
    )
}}

{#-
    Events and distinct persons per UTC day and event name, from the per-person
    daily counts (int_person_event_days) plus the calls that carry no id (no
    person). An incremental run adjusts the stored counts of the days and events
    that changed by the difference of the change logs' signed rows; it never
    recounts a day.
-#}

with

{%- if change_driven_is_incremental() %}

    changes as (
        select
            activity_date,
            event_name,
            sum(change_sign * event_count) as event_count_change,
            sum(change_sign) as person_count_change
        from {{ change_log("int_person_event_days") }} as person_changes
        group by activity_date, event_name
        union all
        select
            activity_date,
            event_name,
            sum(change_sign) as event_count_change,
            0 as person_count_change
        from {{ change_log("int_events") }} as idless_changes
        where person_id is null
        group by activity_date, event_name
    ),

    counted as (
        select
            changes.activity_date,
            changes.event_name,
            coalesce(max(stored.event_count), 0)
            + sum(changes.event_count_change) as event_count,
            coalesce(max(stored.person_count), 0)
            + sum(changes.person_count_change) as person_count
        from changes
        left join {{ this }} as stored
            on
                changes.activity_date = stored.activity_date
                and changes.event_name = stored.event_name
        group by changes.activity_date, changes.event_name
    )
{%- else %}

    counted as (
        select
            activity_date,
            event_name,
            sum(event_count) as event_count,
            sum(person_count) as person_count
        from (
            select
                activity_date,
                event_name,
                sum(event_count) as event_count,
                count(*) as person_count
            from {{ ref("int_person_event_days") }}
            group by activity_date, event_name
            union all
            select
                activity_date,
                event_name,
                count(*) as event_count,
                0 as person_count
            from {{ ref("int_events") }}
            where person_id is null
            group by activity_date, event_name
        ) as parts
        group by activity_date, event_name
    )
{%- endif %}

select
    activity_date,
    event_name,
    event_count::bigint as event_count,
    person_count::bigint as person_count
from counted
where event_count > 0
