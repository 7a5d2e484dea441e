{% macro run_state_record() -%}
    {#-
        post_hook of every change-driven incremental model: record that this run's
        changes are applied: up to run_state_upto() for models that read other
        change-driven models' tables, else up to this run. It runs inside the
        model's transaction, so the state and the rows commit together; a failed run
        leaves the old state and the next run applies its changes again.
    -#}
    {%- set applied = run_state_upto() %}
    insert into {{ run_state_relation() }} as state (
        model_name, run_started_at, completed_at
    )
    values (
        {{ segment_string_literal(this.identifier) }},
        {{ applied if applied is not none else segment_staged_at() }},
        clock_timestamp()
    )
    on conflict (model_name) do update
    set
        run_started_at = excluded.run_started_at,
        completed_at = excluded.completed_at
{%- endmacro %}
