{% macro run_state_relation() -%}
    {#-
        The table where incremental models record the run they last completed:
        <target>_ops.model_run_state, one row per model.
    -#}
    {{ return(api.Relation.create(
        database=target.database,
        schema=target.schema ~ "_ops",
        identifier="model_run_state",
        type="table",
    )) }}
{%- endmacro %}
