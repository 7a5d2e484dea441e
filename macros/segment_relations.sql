{% macro segment_relations(table_name) %}
    {#-
        The tables of one kind across the source schemas, as segment_catalog() entries:
        table_name is a default table ("pages", "identifies", ...) or "event_tables"
        (every other table that has Segment's call envelope: id, received_at, uuid_ts
        and event). Views are never read.
    -#}
    {%- set defaults = segment_default_tables() -%}
    {%- set envelope = ["id", "received_at", "uuid_ts", "event"] -%}
    {%- set found = [] -%}
    {%- for relation in segment_catalog() if relation.kind in ["r", "p", "f"] -%}
        {%- set names = relation.columns | map(attribute=0) | list -%}
        {%- set has_envelope = envelope | reject("in", names) | list | length == 0 -%}
        {%- if table_name == "event_tables" -%}
            {%- set wanted = relation.table not in defaults and has_envelope -%}
        {%- else -%}
            {%- set wanted = relation.table == table_name -%}
        {%- endif -%}
        {%- if wanted -%}
            {%- do found.append(relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}
