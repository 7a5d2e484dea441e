{% macro segment_log_ignored_tables(classified) %}
    {#-
        Logs each table or view of the source schemas that staging does not read,
        with the reason (classified: segment_classified_catalog()), and warns about
        schemas that hold Segment's tables but are not in var('segment_schemas').
    -#}
    {%- for relation in classified if relation.use == "ignored" -%}
        {%- do log(
            "segment_reports: ignoring " ~ relation.schema ~ "." ~ relation.table
            ~ ": " ~ relation.reason, info=True
        ) -%}
    {%- endfor -%}
    {%- set listed = segment_schema_names() -%}
    {%- set unlisted = segment_unlisted_schemas() -%}
    {%- if unlisted | length > 0 -%}
        {%- do exceptions.warn(
            "segment_reports: schema(s) " ~ unlisted | join(", ") ~ " hold Segment "
            ~ "tables but are not in segment_schemas (" ~ listed | join(", ")
            ~ "), so they are not read. Add them with 'segment-reports settings set "
            ~ "segment_schemas \"[" ~ (listed + unlisted) | join(", ") ~ "]\"' "
            ~ "if they are Segment sources."
        ) -%}
    {%- endif -%}
{% endmacro %}
