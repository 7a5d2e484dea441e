{% macro changed_keys_relation() -%}
    {#-
        The temporary table of changed keys that the change_driven materialization
        fills before it runs the model's select in an incremental run: the
        recompute_by columns, plus recompute_from when the model declares it.
    -#}
    {{ return('"' ~ this.identifier ~ '__changed_keys"') }}
{%- endmacro %}
