{% macro segment_relations(table_name) %}
    {#-
        The tables of one kind across the source schemas, as
        segment_classified_catalog() entries: table_name is a default table
        ("pages", "identifies", ...) or "event_tables". Ignored tables and views are
        never read.
    -#}
    {%- set found = [] -%}
    {%- for relation in segment_classified_catalog() -%}
        {%- if table_name == "event_tables" -%}
            {%- set wanted = relation.use == "event" -%}
        {%- else -%}
            {%- set wanted = (
                relation.use == "default" and relation.table == table_name
            ) -%}
        {%- endif -%}
        {%- if wanted -%}
            {%- do found.append(relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}
