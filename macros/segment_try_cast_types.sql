{% macro segment_try_cast_types() %}
    {#- The types text can be read as by segment_try_cast(), one function each. -#}
    {{ return([
        "timestamp with time zone", "bigint", "numeric", "boolean", "date", "jsonb",
    ]) }}
{% endmacro %}
