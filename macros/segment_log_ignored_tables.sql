{% macro segment_log_ignored_tables() %}
    {#-
        Logs each table or view of the source schemas that staging does not read (not
        a default table, not an event table), with the reason.
    -#}
    {%- set defaults = segment_default_tables() -%}
    {%- set envelope = ["id", "received_at", "uuid_ts", "event"] -%}
    {%- for relation in segment_catalog() -%}
        {%- set names = relation.columns | map(attribute=0) | list -%}
        {%- set lacking = envelope | reject("in", names) | list -%}
        {%- set name = relation.schema ~ "." ~ relation.table -%}
        {%- if relation.kind not in ["r", "p", "f"] -%}
            {%- do log("segment_reports: ignoring " ~ name ~ ": a view, not a table",
                info=True) -%}
        {%- elif relation.table not in defaults and lacking | length > 0 -%}
            {%- do log("segment_reports: ignoring " ~ name ~ ": not a Segment event "
                ~ "table (no " ~ lacking | join(", ") ~ " column)", info=True) -%}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
