{% macro event_property_types() %}
    {#-
        SQL: the type of every column of the event tables, pages and screens that
        the catalog reads, as (source_schema, event_name, property_name, data_type
        as format_type() names it, base_type: segment_normalize_type() of it, so
        that varchar(255) and text compare equal), read from pg_catalog when the
        model runs.
    -#}
    {%- set rows = [] -%}
    {%- set tables = [
        ("event_tables", none), ("pages", "page_view"), ("screens", "screen_view"),
    ] -%}
    {%- for kind, event_name in tables -%}
        {%- for relation in segment_relations(kind) -%}
            {%- for column_name, data_type in relation.columns -%}
                {%- do rows.append(
                    "(" ~ segment_string_literal(relation.schema) ~ ", "
                    ~ segment_string_literal(event_name or relation.table) ~ ", "
                    ~ segment_string_literal(column_name) ~ ", "
                    ~ segment_string_literal(data_type) ~ ", "
                    ~ segment_string_literal(
                        segment_normalize_type(segment_base_type(data_type))
                    ) ~ ")"
                ) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ segment_values(
        rows,
        [
            ["source_schema", "text"],
            ["event_name", "text"],
            ["property_name", "text"],
            ["data_type", "text"],
            ["base_type", "text"],
        ],
        "column_types",
    ) }}
{% endmacro %}
