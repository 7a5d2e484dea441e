{% macro segment_describe_value(value) %}
    {#- A value as YAML writes it, and its type, for error messages. -#}
    {%- if value is none -%}
        {{ return("null") }}
    {%- elif value is sameas true or value is sameas false -%}
        {{ return((value | string | lower) ~ " (a boolean)") }}
    {%- elif value is string -%}
        {{ return('"' ~ value ~ '" (a string)') }}
    {%- elif value is number -%}
        {{ return(value | string ~ " (a number)") }}
    {%- elif value is mapping -%}
        {{ return(value | string ~ " (a mapping)") }}
    {%- endif -%}
    {{ return(value | string ~ " (a list)") }}
{% endmacro %}
