{% macro run_state_relation() -%}
    {#-
        The table where incremental models record the run they last completed:
        <target>_ops.model_run_state, one row per model.
    -#}
    {{ return(ops_relation("model_run_state")) }}
{%- endmacro %}
