{% macro segment_is_number(value) %}
    {#- True for ints and floats, false for booleans and strings. -#}
    {{ return(
        value is number and value is not sameas true and value is not sameas false
    ) }}
{% endmacro %}
