{% macro segment_staged_at() -%}
    {#-
        SQL for when this dbt invocation started (run_started_at, UTC): the staged_at
        of every row a run writes, the same value in every model of the run.
    -#}
    '{{ run_started_at }}'::timestamptz
{%- endmacro %}
