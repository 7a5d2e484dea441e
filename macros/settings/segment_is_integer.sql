{% macro segment_is_integer(value) %}
    {#- True for whole numbers (30 or 30.0), false for booleans and strings. -#}
    {{ return(segment_is_number(value) and value == value | int) }}
{% endmacro %}
