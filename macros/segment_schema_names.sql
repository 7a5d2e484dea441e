{% macro segment_schema_names() %}
    {#- var('segment_schemas') as a list without duplicates (a single name works). -#}
    {%- set configured = var('segment_schemas') -%}
    {%- if configured is string -%}
        {%- set configured = [configured] -%}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for name in configured if name not in names -%}
        {%- do names.append(name | string) -%}
    {%- endfor -%}
    {%- if names | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "var('segment_schemas') is empty: list the schemas Segment writes to, "
            ~ "for example --vars '{segment_schemas: [production]}'."
        ) }}
    {%- endif -%}
    {{ return(names) }}
{% endmacro %}
