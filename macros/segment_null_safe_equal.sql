{% macro segment_null_safe_equal(columns, left, right) -%}
    {#-
        A join condition: left and right agree on each column, nulls equal, written
        as two equalities per column so that the planner can hash it (is not
        distinct from cannot be).
    -#}
    {%- for column in columns -%}
        {%- set name = segment_quote_identifier(column) -%}
        coalesce({{ left }}.{{ name }}, '') = coalesce({{ right }}.{{ name }}, '')
        and ({{ left }}.{{ name }} is null) = ({{ right }}.{{ name }} is null)
        {{- " and " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
