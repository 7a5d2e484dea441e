{{
    config(
        materialized="incremental",
        incremental_strategy="append",
        indexes=[
            {"columns": ["person_id", "activity_date"], "unique": True},
            {"columns": ["activity_date"]},
        ],
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }} as person_days"
            " using ({{ changed_persons(run_state_since(), run_state_upto()) }}) as changed"
            " where person_days.person_id = changed.person_id"
            " and person_days.activity_date"
            " >= (changed.recompute_from at time zone 'UTC')::date{% endif %}",
        ],
        post_hook=["{{ run_state_record() }}", "analyze {{ this }}"],
        meta={"run_state_applied": ["events"]},
    )
}}

{#-
    The days each person was active (UTC), from the events mart: a compact input for
    active-user counts. An incremental run rebuilds each changed person's days from
    the day of their recompute_from on.
-#}
{%- set since = run_state_since() %}
{%- set upto = run_state_upto() %}

-- depends_on: {{ ref("int_device_changes") }}

with

events as (
    select * from {{ ref("events") }}
),

{%- if is_incremental() %}

    changed_persons as (
        {{ changed_persons(since, upto) }}
    ),
{%- endif %}

person_days as (
    select
        events.person_id,
        events.activity_date,
        count(*) as event_count
    from
        events
    {%- if is_incremental() %}
    inner join changed_persons
        on
            events.person_id = changed_persons.person_id
            and events.activity_date
            >= (changed_persons.recompute_from at time zone 'UTC')::date
    {%- endif %}
    where events.person_id is not null
    group by events.person_id, events.activity_date
)

select * from person_days
