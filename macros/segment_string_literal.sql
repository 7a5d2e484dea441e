{% macro segment_string_literal(value) -%}
    {#- A SQL string literal for any text (single quotes doubled). -#}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
