{{
    config(
        materialized="change_driven",
        recompute_by=["person_id"],
        recompute_from="cohort_date",
        changed_keys=[{"macro": "funnel_changed_persons"}],
        change_logs=["int_events"],
        funnel_rules=True,
        unique_key=["person_id", "cohort_date", "funnel_name", "step_number"],
        log_columns=["funnel_name", "cohort_date", "step_number", "person_id"],
        indexes=[
            {
                "columns": ["person_id", "cohort_date", "funnel_name", "step_number"],
                "unique": True,
            },
            {"columns": ["funnel_name", "cohort_date"]},
        ],
    )
}}

{#-
    Every step each person reached in each funnel entry (README, "For analysts",
    funnels), from the funnel definitions of seeds/funnels.csv:
    - a person enters a funnel once per UTC day, at their first step-1 event of
      that day in (occurred_at, event_id) order;
    - step k is reached at the earliest event matching step k strictly after the
      event that reached step k-1, no later than entry time + the funnel's window.
    A step matches events of its event_name whose properties ->> property_name
    equals property_value; for page views `path`, `url` and `referrer` also read
    the page's own fields, which Segment stores as columns, not properties.
    Each step is found for all entries at once: the entries' previous-step events
    and the step's candidate events are sorted together per person, and each entry
    takes the first candidate after its own event (the running count of
    candidates, plus one). The number of steps comes from the loaded seed
    (funnel_step_count()).
    An incremental run recomputes, for each person with a changed event of a step,
    their entries from the UTC day of that event, less the longest window when a
    later step names the event (funnel_changed_persons()); only rows that differ
    are rewritten and logged, for funnel_conversions.
-#}
{%- set step_count = funnel_step_count() %}
{%- set incremental = change_driven_is_incremental() %}
{%- set funnels = ref("funnels") %}
{%- set event_columns %}
    events.person_id,
    events.event_name,
    events.occurred_at,
    events.event_id,
    events.source_schema,
    events.properties,
    case when events.event_type = 'page' then events.page_path end as page_path,
    case when events.event_type = 'page' then events.page_url end as page_url,
    case when events.event_type = 'page' then events.referrer end as referrer
{%- endset %}

with

steps as (
    {{ funnel_definitions() }}
),

{%- if incremental %}

    changed_persons as (
        select
            person_id,
            recompute_from
        from {{ changed_keys_relation() }}
    ),
{%- endif %}

events as (
    {%- if incremental %}
        -- one (person_id, occurred_at) index range per changed person (offset 0
        -- keeps it from turning into a join of the whole table)
        select person_events.*
        from changed_persons
        cross join lateral (
            select {{ event_columns }}
            from {{ ref("int_events") }} as events
            where
                events.person_id = changed_persons.person_id
                and events.occurred_at
                >= changed_persons.recompute_from::timestamp at time zone 'UTC'
                and events.event_name in (
                    select funnels.event_name from {{ funnels }} as funnels
                )
            offset 0
        ) as person_events
    {%- else %}
        select {{ event_columns }}
        from {{ ref("int_events") }} as events
        where events.person_id is not null
    {%- endif %}
),

candidates as (
    select
        steps.funnel_name,
        steps.step_number,
        steps.funnel_window,
        events.person_id,
        events.occurred_at,
        events.event_id,
        events.source_schema
    from events
    inner join steps
        on
            events.event_name = steps.event_name
            and (
                steps.property_name is null
                or coalesce(
                    events.properties ->> steps.property_name,
                    case steps.property_name
                        when 'path' then events.page_path
                        when 'url' then events.page_url
                        when 'referrer' then events.referrer
                    end
                ) = steps.property_value
            )
),

-- each funnel's first step-1 event of each person and UTC day (sqlfluff's ST06
-- takes distinct on for a calculated column)
reached_1 as (
    select distinct on (funnel_name, person_id, cohort_date)  -- noqa: ST06
        funnel_name,
        person_id,
        occurred_at as entered_at,
        occurred_at,
        event_id,
        source_schema,
        (occurred_at at time zone 'UTC')::date as cohort_date,
        occurred_at + funnel_window as closes_at,
        null::timestamptz as previous_at
    from candidates
    where step_number = 1
    order by funnel_name, person_id, cohort_date, occurred_at, event_id, source_schema
),

{%- for step in range(2, step_count + 1) %}

    -- step {{ step }}: each entry's step-{{ step - 1 }} event and the candidates of step
    -- {{ step }}, one sorted sequence per person; a candidate that is the entry's
    -- own event sorts first, so only a later event can follow it
    sequence_{{ step }} as (
        select
            funnel_name,
            person_id,
            cohort_date,
            entered_at,
            closes_at,
            occurred_at,
            event_id,
            source_schema,
            1 as is_reached
        from reached_{{ step - 1 }}
        union all
        select
            funnel_name,
            person_id,
            null::date as cohort_date,
            null::timestamptz as entered_at,
            null::timestamptz as closes_at,
            occurred_at,
            event_id,
            source_schema,
            0 as is_reached
        from candidates
        where step_number = {{ step }}
    ),

    -- the candidates strictly before each row: an entry's event and the first
    -- candidate after it share this count, so they fall in one group
    counted_{{ step }} as (
        select
            *,
            count(*) filter (where is_reached = 0) over (
                partition by funnel_name, person_id
                order by occurred_at, event_id, source_schema, is_reached
                rows between unbounded preceding and current row
            ) - (1 - is_reached) as candidates_before
        from sequence_{{ step }}
    ),

    paired_{{ step }} as (
        select
            *,
            first_value(is_reached) over following as next_is_reached,
            first_value(occurred_at) over following as next_occurred_at,
            first_value(event_id) over following as next_event_id,
            first_value(source_schema) over following as next_source_schema
        from counted_{{ step }}
        window following as (
            partition by funnel_name, person_id, candidates_before
            order by is_reached
        )
    ),

    reached_{{ step }} as (
        select
            funnel_name,
            person_id,
            cohort_date,
            entered_at,
            closes_at,
            next_occurred_at as occurred_at,
            next_event_id as event_id,
            next_source_schema as source_schema,
            occurred_at as previous_at
        from paired_{{ step }}
        where
            is_reached = 1
            and next_is_reached = 0
            and next_occurred_at <= closes_at
    ),
{%- endfor %}

reached as (
    {%- for step in range(1, step_count + 1) %}
        select
            funnel_name,
            person_id,
            cohort_date,
            {{ step }} as step_number,
            entered_at,
            occurred_at as reached_at,
            source_schema,
            event_id,
            extract(epoch from occurred_at - entered_at) as seconds_from_entry,
            extract(epoch from occurred_at - previous_at)
                as seconds_from_previous_step
        from reached_{{ step }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select
    funnel_name,
    person_id,
    cohort_date,
    step_number,
    entered_at,
    reached_at,
    source_schema,
    event_id,
    seconds_from_entry,
    seconds_from_previous_step
from reached
