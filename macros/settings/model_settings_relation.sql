{% macro model_settings_relation() -%}
    {#-
        <target>_ops.model_settings: the settings each incremental model's rows were
        built with, one row per model.
    -#}
    {{ return(ops_relation("model_settings")) }}
{%- endmacro %}
