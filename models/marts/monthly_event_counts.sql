{{
    config(
        materialized="incremental",
        incremental_strategy="append",
        indexes=[{"columns": ["event_month", "event_name"], "unique": True}],
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }} where event_month in"
            " (select date_trunc('month', activity_date::timestamp)::date from"
            " ({{ changed_dates(run_state_since(), run_state_upto()) }}) as changed)"
            "{% endif %}",
        ],
        post_hook=["{{ run_state_record() }}", "analyze {{ this }}"],
        meta={"run_state_applied": ["events"]},
    )
}}

{#-
    Events and distinct persons per UTC calendar month and event name. Dates are
    truncated as timestamp, never timestamptz, whose months follow the session time
    zone (a day that zone skipped falls into the next month). An
    incremental run rebuilds the months holding a day whose events changed since its
    last completed run (distinct persons do not add up across days).
-#}
{%- set since = run_state_since() %}
{%- set upto = run_state_upto() %}

-- depends_on: {{ ref("int_device_changes") }}
-- depends_on: {{ ref("stg_segment__tracks") }}
-- depends_on: {{ ref("stg_segment__pages") }}
-- depends_on: {{ ref("stg_segment__screens") }}

with

events as (
    select * from {{ ref("events") }}
),

{%- if is_incremental() %}

    changed_months as (
        select date_trunc('month', activity_date::timestamp)::date as event_month
        from ({{ changed_dates(since, upto) }}) as changed
        group by event_month
    ),
{%- endif %}

counted as (
    select
        events.event_name,
        date_trunc('month', events.activity_date::timestamp)::date as event_month,
        count(*) as event_count,
        count(distinct events.person_id) as person_count
    from events
    {%- if is_incremental() %}
        where
            events.activity_date
            >= (select min(changed_months.event_month) from changed_months)
            and date_trunc('month', events.activity_date::timestamp)::date in (
                select changed_months.event_month from changed_months
            )
    {%- endif %}
    group by events.event_name, date_trunc('month', events.activity_date::timestamp)
)

select * from counted
