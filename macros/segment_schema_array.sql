{% macro segment_schema_array() %}
    {#- SQL for a text[] literal of segment_schema_names(), in var order. -#}
    {%- set literals = [] -%}
    {%- for name in segment_schema_names() -%}
        {%- do literals.append(segment_string_literal(name)) -%}
    {%- endfor -%}
    {{ return("array[" ~ literals | join(", ") ~ "]::text[]") }}
{% endmacro %}
