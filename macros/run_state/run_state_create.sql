{% macro run_state_create() -%}
    {#-
        on-run-start: create the run-state table when missing, one row per
        incremental model: the run whose changes it last applied (run_started_at),
        when that run completed, the run that last built it in full (rebuilt_at)
        and the stamp up to which its change log was pruned (log_pruned_through).
        Tables from before the last two columns gain them with values that make
        every consumer rebuild once.
    -#}
    {%- set relation = run_state_relation() -%}
    create schema if not exists {{ adapter.quote(relation.schema) }};
    create table if not exists {{ relation }} (
        model_name text primary key,
        run_started_at timestamptz not null,
        completed_at timestamptz not null
    );
    alter table {{ relation }}
    add column if not exists rebuilt_at timestamptz not null default 'infinity',
    add column if not exists log_pruned_through timestamptz not null
    default '-infinity'
{%- endmacro %}
