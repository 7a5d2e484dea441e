{% macro ops_relation(identifier) -%}
    {#- A bookkeeping table of the project in <target>_ops. -#}
    {{ return(api.Relation.create(
        database=target.database,
        schema=target.schema ~ "_ops",
        identifier=identifier,
        type="table",
    )) }}
{%- endmacro %}
