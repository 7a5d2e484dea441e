{% macro segment_values(rows, columns, alias) %}
    {#-
        SQL: a select of literal rows with typed columns that has its columns even
        with no row at all. rows: a list of SQL tuples ("('a', 'b')"); columns:
        [[name, type], ...] in the tuples' order; alias names the values list.
    -#}
    {%- if rows | length > 0 %}
        select
        {%- for name, data_type in columns %}
            {{ alias }}.{{ name }}::{{ data_type }} as {{ name }}
            {{- "," if not loop.last }}
        {%- endfor %}
        from (
            values
            {{ rows | join(",\n            ") }}
        ) as {{ alias }} ({{ columns | map(attribute=0) | join(", ") }})
    {%- else %}
        select
        {%- for name, data_type in columns %}
            null::{{ data_type }} as {{ name }}
            {{- "," if not loop.last }}
        {%- endfor %}
        where false
    {%- endif %}
{% endmacro %}
