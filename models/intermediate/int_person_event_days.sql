{{
    config(
        materialized="change_driven",
        recompute_by=["person_id", "activity_date", "event_name"],
        changed_keys=[{
            "log": "int_events",
            "select": {
                "person_id": "person_id",
                "activity_date": "activity_date",
                "event_name": "event_name",
            },
            "where": "person_id is not null",
            "net": true,
        }],
        change_logs=["int_events"],
        log_columns=["person_id", "activity_date", "event_name", "event_count"],
        indexes=[
            {"columns": ["person_id", "activity_date", "event_name"], "unique": True},
        ],
    )
}}

{#-
    How many events each person had of each event on each UTC day: the grain at
    which distinct-person counts add up, so the daily and monthly counts and the
    person-days are kept by difference. An incremental run adds the signed rows of
    int_events' change log to the stored counts of the keys they touch.
-#}

with

{%- if change_driven_is_incremental() %}

    changes as (
        select
            person_id,
            activity_date,
            event_name,
            sum(change_sign) as event_count_change
        from {{ change_log("int_events") }} as event_changes
        where person_id is not null
        group by person_id, activity_date, event_name
        having sum(change_sign) != 0
    ),

    counted as (
        select
            changes.person_id,
            changes.activity_date,
            changes.event_name,
            coalesce(stored.event_count, 0) + changes.event_count_change as event_count
        from changes
        left join {{ this }} as stored
            on
                changes.person_id = stored.person_id
                and changes.activity_date = stored.activity_date
                and changes.event_name = stored.event_name
    )
{%- else %}

    counted as (
        select
            person_id,
            activity_date,
            event_name,
            count(*) as event_count
        from {{ ref("int_events") }}
        where person_id is not null
        group by person_id, activity_date, event_name
    )
{%- endif %}

select * from counted
where event_count > 0
