{% macro segment_values(rows, columns, alias) %}
    {#-
        SQL: a select of literal rows with typed columns that has its columns even
        with no row at all. rows: a list of SQL tuples ("('a', 'b')"); columns:
        [[name, type], ...] in the tuples' order; alias names the values list.
    -#}
    {%- set targets = [] -%}
    {%- for name, data_type in columns -%}
        {%- if rows | length > 0 -%}
            {%- do targets.append(alias ~ "." ~ name ~ "::" ~ data_type ~ " as " ~ name) -%}
        {%- else -%}
            {%- do targets.append("null::" ~ data_type ~ " as " ~ name) -%}
        {%- endif -%}
    {%- endfor -%}
    select {{ targets | join(", ") }}
    {%- if rows | length > 0 %}
        from (values {{ rows | join(", ") }})
        as {{ alias }} ({{ columns | map(attribute=0) | join(", ") }})
    {%- else %}
        where false
    {%- endif %}
{% endmacro %}
