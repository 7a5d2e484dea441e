{% macro model_settings_relation() -%}
    {#-
        <target>_ops.model_settings: the settings each incremental model's rows were
        built with, one row per model.
    -#}
    {{ return(api.Relation.create(
        database=target.database,
        schema=target.schema ~ "_ops",
        identifier="model_settings",
        type="table",
    )) }}
{%- endmacro %}
