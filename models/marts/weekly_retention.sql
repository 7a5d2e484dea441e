{{
    config(
        indexes=[{"columns": ["cohort_week", "weeks_since_first_seen"], "unique": True}]
    )
}}

{#-
    Weekly cohorts (README, "For analysts", retention): a person's cohort is the
    ISO week (Monday, UTC) of their first event; retained_persons counts the
    cohort's persons with a returning event (var retention_return_events, [] = any
    event) in week N after it, for N from 0 to the week of the warehouse's latest
    event, at most var retention_max_weeks. Rebuilt in full each run from the
    person-day tables (one row per person and active day, not per event), so a
    late first event that moves a person to an earlier cohort is always counted
    there.
-#}
{%- set settings = segment_settings() %}
{%- set return_events = [] %}
{%- for name in settings.retention_return_events %}
    {%- do return_events.append(segment_string_literal(name)) %}
{%- endfor %}

with

person_days as (
    select
        person_id,
        activity_date
    from {{ ref("int_person_days") }}
),

returning_days as (
    {%- if return_events | length > 0 %}
        select
            person_id,
            activity_date
        from {{ ref("int_person_event_days") }}
        where event_name in ({{ return_events | join(", ") }})
    {%- else %}
        select
            person_id,
            activity_date
        from person_days
    {%- endif %}
),

cohorts as (
    -- date_trunc of a timestamp without time zone: Monday whatever the server's zone
    select
        person_id,
        date_trunc('week', min(activity_date)::timestamp)::date as cohort_week
    from person_days
    group by person_id
),

cohort_sizes as (
    select
        cohort_week,
        count(*) as cohort_size
    from cohorts
    group by cohort_week
),

latest as (
    select date_trunc('week', max(activity_date)::timestamp)::date as latest_week
    from person_days
),

returns as (
    select
        cohorts.cohort_week,
        (
            date_trunc('week', returning_days.activity_date::timestamp)::date
            - cohorts.cohort_week
        ) / 7 as weeks_since_first_seen,
        count(distinct returning_days.person_id) as retained_persons
    from returning_days
    inner join cohorts on returning_days.person_id = cohorts.person_id
    group by cohorts.cohort_week, weeks_since_first_seen
),

grid as (
    select
        cohort_sizes.cohort_week,
        cohort_sizes.cohort_size,
        weeks.weeks_since_first_seen
    from cohort_sizes
    cross join latest
    cross join lateral generate_series(
        0,
        least(
            {{ settings.retention_max_weeks | int }},
            (latest.latest_week - cohort_sizes.cohort_week) / 7
        )
    ) as weeks (weeks_since_first_seen)
)

select
    grid.cohort_week,
    grid.weeks_since_first_seen,
    grid.cohort_size,
    coalesce(returns.retained_persons, 0) as retained_persons,
    coalesce(returns.retained_persons, 0)::numeric
    / grid.cohort_size as retention_rate
from grid
left join returns
    on
        grid.cohort_week = returns.cohort_week
        and grid.weeks_since_first_seen = returns.weeks_since_first_seen
