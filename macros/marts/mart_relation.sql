{% macro mart_relation(identifier) -%}
    {#-
        The existing relation `identifier` in the target schema, or none when it does
        not exist yet (or at parse time). For reading a downstream mart's previous
        state without a ref(), which would make a cycle.
    -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=target.database, schema=target.schema, identifier=identifier
    )) }}
{%- endmacro %}
