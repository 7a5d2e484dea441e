{% macro segment_schema_names() %}
    {#- var('segment_schemas'), checked by segment_settings(), without duplicates. -#}
    {{ return(segment_settings().segment_schemas) }}
{% endmacro %}
