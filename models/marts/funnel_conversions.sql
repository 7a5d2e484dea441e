{{
    config(
        materialized="change_driven",
        recompute_by=["funnel_name", "cohort_date"],
        changed_keys=[{
            "log": "int_funnel_steps",
            "select": {"funnel_name": "funnel_name", "cohort_date": "cohort_date"},
        }],
        change_logs=["int_funnel_steps"],
        funnel_rules=True,
        indexes=[
            {"columns": ["funnel_name", "cohort_date", "step_number"], "unique": True},
        ],
    )
}}

{#-
    How far the persons who entered each funnel on each UTC day got (README, "For
    analysts", funnels): one row per step of the funnel for every day with an
    entry, zero where nobody reached the step. Counted from int_funnel_steps; an
    incremental run recounts the (funnel, day) pairs whose steps changed there.
-#}

with

steps as (
    select
        funnel_name,
        step_number,
        event_name
    from ({{ funnel_definitions() }}) as definitions
),

reached as (
    select
        funnel_steps.funnel_name,
        funnel_steps.cohort_date,
        funnel_steps.step_number,
        funnel_steps.seconds_from_entry,
        funnel_steps.seconds_from_previous_step
    from {{ ref("int_funnel_steps") }} as funnel_steps
    {%- if change_driven_is_incremental() %}
        inner join {{ changed_keys_relation() }} as changed
            on
                funnel_steps.funnel_name = changed.funnel_name
                and funnel_steps.cohort_date = changed.cohort_date
    {%- endif %}
),

counted as (
    select
        funnel_name,
        cohort_date,
        step_number,
        count(*) as persons_reached,
        percentile_cont(0.5) within group (
            order by seconds_from_entry::float8
        ) as median_seconds_from_entry,
        percentile_cont(0.5) within group (
            order by seconds_from_previous_step::float8
        ) as median_seconds_from_previous_step
    from reached
    group by funnel_name, cohort_date, step_number
),

cohorts as (
    select
        funnel_name,
        cohort_date,
        persons_reached as persons_entered
    from counted
    where step_number = 1
),

grid as (
    select
        cohorts.funnel_name,
        cohorts.cohort_date,
        steps.step_number,
        steps.event_name,
        cohorts.persons_entered,
        counted.median_seconds_from_entry,
        counted.median_seconds_from_previous_step,
        coalesce(counted.persons_reached, 0) as persons_reached
    from cohorts
    inner join steps on cohorts.funnel_name = steps.funnel_name
    left join counted
        on
            cohorts.funnel_name = counted.funnel_name
            and cohorts.cohort_date = counted.cohort_date
            and steps.step_number = counted.step_number
)

select
    funnel_name,
    cohort_date,
    step_number,
    event_name,
    persons_entered,
    persons_reached,
    median_seconds_from_entry,
    median_seconds_from_previous_step,
    persons_reached::numeric / persons_entered as conversion_rate,
    persons_reached::numeric / nullif(
        lag(persons_reached, 1, persons_entered) over (
            partition by funnel_name, cohort_date order by step_number
        ),
        0
    ) as step_conversion_rate
from grid
