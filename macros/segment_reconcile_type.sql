{% macro segment_reconcile_type(data_types) %}
    {#-
        The type a column gets when sources disagree (Segment types a column by the
        first value it saw): integers stay bigint, a mix of integer and decimal types
        becomes numeric, any other mix becomes text. Depends only on the set of types,
        never on the order of schemas.
    -#}
    {%- set distinct_types = [] -%}
    {%- for data_type in data_types -%}
        {%- set normalized = segment_normalize_type(data_type) -%}
        {%- if normalized not in distinct_types -%}
            {%- do distinct_types.append(normalized) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set integers = ["smallint", "integer", "bigint"] -%}
    {%- set numbers = integers + ["numeric", "real", "double precision"] -%}
    {%- if distinct_types | length == 0 -%}
        {{ return("text") }}
    {%- elif distinct_types | length == 1 -%}
        {{ return(distinct_types[0]) }}
    {%- elif distinct_types | reject("in", integers) | list | length == 0 -%}
        {{ return("bigint") }}
    {%- elif distinct_types | reject("in", numbers) | list | length == 0 -%}
        {{ return("numeric") }}
    {%- endif -%}
    {{ return("text") }}
{% endmacro %}
