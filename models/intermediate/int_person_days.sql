{{
    config(
        materialized="change_driven",
        recompute_by=["person_id", "activity_date"],
        changed_keys=[{
            "log": "int_person_event_days",
            "select": {"person_id": "person_id", "activity_date": "activity_date"},
        }],
        change_logs=["int_person_event_days"],
        log_columns=["person_id", "activity_date"],
        indexes=[
            {"columns": ["person_id", "activity_date"], "unique": True},
            {"columns": ["activity_date"]},
        ],
    )
}}

{#-
    The UTC days each person was active: the compact input of daily_active_users.
    An incremental run adds the signed rows of int_person_event_days' change log to
    the stored counts; its own change log gives daily_active_users the persons
    whose days changed.
-#}

with

{%- if change_driven_is_incremental() %}

    changes as (
        select
            person_id,
            activity_date,
            sum(change_sign * event_count) as event_count_change
        from {{ change_log("int_person_event_days") }} as day_changes
        group by person_id, activity_date
    ),

    counted as (
        select
            changes.person_id,
            changes.activity_date,
            coalesce(stored.event_count, 0) + changes.event_count_change as event_count
        from changes
        left join {{ this }} as stored
            on
                changes.person_id = stored.person_id
                and changes.activity_date = stored.activity_date
    )
{%- else %}

    counted as (
        select
            person_id,
            activity_date,
            sum(event_count) as event_count
        from {{ ref("int_person_event_days") }}
        group by person_id, activity_date
    )
{%- endif %}

select * from counted
where event_count > 0
