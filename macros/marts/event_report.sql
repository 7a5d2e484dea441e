-- sqlfluff:exclude_rules:LT02
-- (sqlfluff cannot settle the indentation of this macro's branches: each fix moves it)
{% macro event_report(
    event_name,
    per="person",
    group_by=[],
    latest=[],
    count_as="event_count",
    persons_as="person_count",
    first_as="first_occurred_at",
    last_as="last_occurred_at"
) -%}
    {#-
        SQL for a report over one track event (its event table's name, e.g.
        deployments_show), read from int_events, whose `properties` jsonb holds
        the event table's property columns. Property values come out as text.
        - per="person": one row per (group_by properties..., person_id) with the
          person's resolved user_id (null for an anonymous person), the latest
          non-null value of each `latest` property, the event count (count_as) and
          the first and last times (first_as, last_as). Materialize it
          change_driven by person_id (nullable: calls with no id form one row),
          with int_events' change log as the changed keys (see
          int_deployment_views_by_person); in an incremental run it reads only
          the changed persons' events. Users traits are joined in a view over it
          (users_traits()), so a changed trait recounts nothing.
        - per="month" or per="day": one row per UTC period (event_month or
          activity_date) and group_by properties, with distinct events (count_as)
          and distinct persons (persons_as). Without group_by it is a select from
          monthly_event_counts or daily_event_counts (kept by difference), to be
          materialized as a view; with group_by it counts the event's rows.
        An event the warehouse has never seen gives an empty report, not an error.
    -#}
    with

    events as (
        select * from {{ ref("int_events") }}
        where
            event_name = {{ segment_string_literal(event_name) }}
    ),

{%- if per == "person" %}

        report as (
            {{- event_report_per_person(
                event_name, group_by, latest, count_as, first_as, last_as
            ) }}
        )
    {%- elif not group_by %}
{%- set counts = "monthly_event_counts" if per == "month" else "daily_event_counts" %}
{%- set period = "event_month" if per == "month" else "activity_date" %}

        report as (
            select
                {{ period }},
                event_count as {{ segment_quote_identifier(count_as) }},
                person_count as {{ segment_quote_identifier(persons_as) }}
            from {{ ref(counts) }}
            where event_name = {{ segment_string_literal(event_name) }}
        )
{%- else %}

        report as (
            select
{%- if per == "month" %}
                    date_trunc('month', activity_date::timestamp)::date as event_month,
                {%- else %}
                    activity_date,
{%- endif %}
{%- for property in group_by %}
                    properties ->> {{ segment_string_literal(property) }}
                        as {{ segment_quote_identifier(property) }},
{%- endfor %}
                count(distinct (source_schema, event_id))
                    as {{ segment_quote_identifier(count_as) }},
                count(distinct person_id) as {{ segment_quote_identifier(persons_as) }}
            from events
            group by
                1
{%- for property in group_by %},
                    properties ->> {{ segment_string_literal(property) }}
{%- endfor %}
        )
{%- endif %}

    select * from report
{%- endmacro %}
