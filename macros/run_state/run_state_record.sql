{% macro run_state_record(rebuilt=false) -%}
    {#-
        Record, inside the model's transaction, that this run's changes are applied
        (and, for a full build, that the model was rebuilt now), so the state and
        the rows commit together; a failed run leaves the old state and the next
        run applies its changes again.
    -#}
    insert into {{ run_state_relation() }} as state (
        model_name, run_started_at, completed_at, rebuilt_at, log_pruned_through
    )
    values (
        {{ segment_string_literal(this.identifier) }},
        {{ segment_staged_at() }},
        clock_timestamp(),
        {{ segment_staged_at() }},
        '-infinity'
    )
    on conflict (model_name) do update
    set
        run_started_at = excluded.run_started_at,
        completed_at = excluded.completed_at,
        rebuilt_at = case
            when {{ rebuilt }} then excluded.rebuilt_at else state.rebuilt_at
        end,
        log_pruned_through = case
            when {{ rebuilt }}
                then excluded.log_pruned_through
            else state.log_pruned_through
        end;
{%- endmacro %}
