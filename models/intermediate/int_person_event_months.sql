{{
    config(
        materialized="change_driven",
        recompute_by=["person_id", "event_month", "event_name"],
        changed_keys=[{
            "log": "int_person_event_days",
            "select": {
                "person_id": "person_id",
                "event_month": "date_trunc('month', activity_date::timestamp)::date",
                "event_name": "event_name",
            },
        }],
        change_logs=["int_person_event_days"],
        log_columns=["person_id", "event_month", "event_name", "event_count"],
        indexes=[
            {"columns": ["person_id", "event_month", "event_name"], "unique": True},
        ],
    )
}}

{#-
    How many events each person had of each event in each UTC calendar month, on
    how many days: the grain at which the monthly distinct-person counts add up.
    Dates are truncated as timestamp, never timestamptz, whose months follow the
    session time zone. An incremental run adds the signed rows of
    int_person_event_days' change log to the stored counts.
-#}

with

{%- if change_driven_is_incremental() %}

    changes as (
        select
            person_id,
            date_trunc('month', activity_date::timestamp)::date as event_month,
            event_name,
            sum(change_sign * event_count) as event_count_change,
            sum(change_sign) as active_days_change
        from {{ change_log("int_person_event_days") }} as day_changes
        group by person_id, date_trunc('month', activity_date::timestamp), event_name
    ),

    counted as (
        select
            changes.person_id,
            changes.event_month,
            changes.event_name,
            coalesce(stored.event_count, 0)
            + changes.event_count_change as event_count,
            coalesce(stored.active_days, 0)
            + changes.active_days_change as active_days
        from changes
        left join {{ this }} as stored
            on
                changes.person_id = stored.person_id
                and changes.event_month = stored.event_month
                and changes.event_name = stored.event_name
    )
{%- else %}

    counted as (
        select
            person_id,
            event_name,
            date_trunc('month', activity_date::timestamp)::date as event_month,
            sum(event_count) as event_count,
            count(*) as active_days
        from {{ ref("int_person_event_days") }}
        group by person_id, date_trunc('month', activity_date::timestamp), event_name
    )
{%- endif %}

select * from counted
where event_count > 0
