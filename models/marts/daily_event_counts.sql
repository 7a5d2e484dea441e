{{
    config(
        materialized="incremental",
        incremental_strategy="append",
        indexes=[{"columns": ["activity_date", "event_name"], "unique": True}],
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }} where activity_date in"
            " ({{ changed_dates(run_state_since(), run_state_upto()) }}){% endif %}",
        ],
        post_hook=["{{ run_state_record() }}", "analyze {{ this }}"],
        meta={"run_state_applied": ["events"]},
    )
}}

{#-
    Events and distinct persons per UTC day and event name. An incremental run
    rebuilds the days whose events changed since its last completed run.
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

counted as (
    select
        activity_date,
        event_name,
        count(*) as event_count,
        count(distinct person_id) as person_count
    from events
    {%- if is_incremental() %}
        where activity_date in ({{ changed_dates(since, upto) }})
    {%- endif %}
    group by activity_date, event_name
)

select * from counted
