{% macro run_state_create() -%}
    {#-
        on-run-start: create the run-state table when missing. Incremental models
        read it to know which changes they have already applied.
    -#}
    {%- set relation = run_state_relation() -%}
    create schema if not exists {{ adapter.quote(relation.schema) }};
    create table if not exists {{ relation }} (
        model_name text primary key,
        run_started_at timestamptz not null,
        completed_at timestamptz not null
    )
{%- endmacro %}
