{% macro segment_base_type(data_type) %}
    {#-
        A catalog type without its modifier, lowercase: "character varying(1024)" is
        "character varying", "timestamp(3) with time zone" is
        "timestamp with time zone", "numeric(10,2)" is "numeric".
    -#}
    {%- set t = data_type | lower | trim -%}
    {%- if "(" in t and ")" in t -%}
        {%- set t = t.split("(")[0] ~ t.split(")", 1)[1] -%}
    {%- endif -%}
    {{ return(t | trim) }}
{% endmacro %}
