{% macro segment_envelope_columns() %}
    {#-
        The columns of every Segment call table that are not properties or traits, as
        [name, type] pairs in the order staging models read them.
    -#}
    {{ return([
        ["id", "text"],
        ["anonymous_id", "text"],
        ["user_id", "text"],
        ["timestamp", "timestamptz"],
        ["sent_at", "timestamptz"],
        ["original_timestamp", "timestamptz"],
        ["received_at", "timestamptz"],
        ["uuid_ts", "timestamptz"],
    ]) }}
{% endmacro %}
