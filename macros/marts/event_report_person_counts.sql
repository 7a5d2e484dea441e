{% macro event_report_person_counts(
    relation, group_by, latest, count_as, first_as, last_as
) -%}
    {#-
        For event_report_per_person(): the events of relation (int_events rows)
        grouped by the group_by properties and person_id, with the resolved user
        id, the latest non-null value of each `latest` property (by occurred_at,
        then event_id), the count and the first and last times.
    -#}
    select
    {%- for property in group_by %}
        {{ relation }}.properties ->> {{ segment_string_literal(property) }}
                as {{ segment_quote_identifier(property) }},
    {%- endfor %}
    {%- for property in latest %}
            (array_agg(
                {{ relation }}.properties ->> {{ segment_string_literal(property) }}
                order by {{ relation }}.occurred_at desc, {{ relation }}.event_id desc
            ) filter (
                where {{ relation }}.properties ? {{ segment_string_literal(property) }}
            ))[1] as {{ segment_quote_identifier(property) }},
    {%- endfor %}
    {{ relation }}.person_id,
        max({{ relation }}.resolved_user_id) as user_id,
        count(*) as {{ segment_quote_identifier(count_as) }},
        min({{ relation }}.occurred_at) as {{ segment_quote_identifier(first_as) }},
        max({{ relation }}.occurred_at) as {{ segment_quote_identifier(last_as) }}
    from {{ relation }}
    group by
    {%- for property in group_by %}
        {{ relation }}.properties ->> {{ segment_string_literal(property) }},
    {%- endfor %}
    {{ relation }}.person_id
{%- endmacro %}
