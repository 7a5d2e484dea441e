{% macro segment_column_aliases(columns, sortable_only=false) %}
    {#-
        The output names (quoted where needed) of segment_union_relations() column
        specs, to list them again in a model. sortable_only keeps the columns whose
        type has an ordering (for deterministic tie-breaks in order by).
    -#}
    {%- set sortable = [
        "text", "smallint", "integer", "bigint", "numeric", "real", "double precision",
        "boolean", "date", "timestamp with time zone", "timestamp without time zone",
        "jsonb", "uuid",
    ] -%}
    {%- set aliases = [] -%}
    {%- for column in columns -%}
        {%- if not sortable_only or segment_normalize_type(column[1]) in sortable -%}
            {%- do aliases.append(segment_quote_identifier(
                column[2] if column | length > 2 else column[0]
            )) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(aliases) }}
{% endmacro %}
