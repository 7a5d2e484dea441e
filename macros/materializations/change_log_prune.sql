{% macro change_log_prune(log_relation, log_columns) -%}
    {#-
        Delete the change-log rows that every consumer has applied: those stamped
        at or before the oldest last run of the models that list this model in
        their change_logs (a consumer that has never completed keeps every row),
        and record that bound as this model's log_pruned_through. A consumer whose
        last run is older than the bound (it was left out of runs meanwhile)
        rebuilds in full. Then analyze the log.
    -#}
    {%- set consumers = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if this.identifier in (node.config.get("change_logs") or []) -%}
                {%- do consumers.append(segment_string_literal(node.name)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if log_columns and consumers %}
        create temporary table change_log_bound on commit drop as
        select
            case
                when count(*) = {{ consumers | length }} then min(run_started_at)
                else '-infinity'::timestamptz
            end as applied_through
        from {{ run_state_relation() }}
        where model_name in ({{ consumers | join(", ") }});
        delete from {{ log_relation }} as log
        using change_log_bound as bound
        where log.changed_at <= bound.applied_through;
        update {{ run_state_relation() }} as state
        set log_pruned_through = greatest(
            state.log_pruned_through, bound.applied_through
        )
        from change_log_bound as bound
        where state.model_name = {{ segment_string_literal(this.identifier) }};
        drop table change_log_bound;
    {%- endif %}
    {%- if log_columns %}
        {#- fresh statistics: consumers filter on changed_at past their last run,
            which without them looks empty to the planner -#}
        analyze {{ log_relation }};
    {%- endif %}
{%- endmacro %}
