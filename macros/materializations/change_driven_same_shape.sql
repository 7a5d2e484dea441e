{% macro change_driven_same_shape(existing_relation, sql) -%}
    {#-
        Whether `existing_relation` is a table with exactly the columns (names,
        order and types) that `sql` selects, found from an empty temporary table.
    -#}
    {%- if existing_relation is none or existing_relation.type != "table" -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set shape = make_temp_relation(existing_relation, "__shape") -%}
    {%- call statement("shape") -%}
        create temporary table {{ shape }} on commit drop as
        select * from ({{ sql }}) as model_rows limit 0
    {%- endcall -%}
    {%- set wanted = [] -%}
    {%- for column in adapter.get_columns_in_relation(shape) -%}
        {%- do wanted.append(column.name ~ " " ~ column.data_type) -%}
    {%- endfor -%}
    {%- set existing = [] -%}
    {%- for column in adapter.get_columns_in_relation(existing_relation) -%}
        {%- do existing.append(column.name ~ " " ~ column.data_type) -%}
    {%- endfor -%}
    {{ return(wanted == existing) }}
{%- endmacro %}
