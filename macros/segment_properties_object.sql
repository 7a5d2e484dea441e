{% macro segment_properties_object(relation, exclude) %}
    {#-
        SQL for a jsonb object of a relation's columns that are not in exclude and not
        context_*, keyed by column name, nulls stripped; '{}' when there is none.
        jsonb_build_object takes at most 100 arguments, so wide tables are built in
        chunks of 50 columns joined with ||.
    -#}
    {%- set names = [] -%}
    {%- for name, data_type in relation.columns -%}
        {%- if name not in exclude and not name.startswith("context_") -%}
            {%- do names.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if names | length == 0 -%}
        {{ return("'{}'::jsonb") }}
    {%- endif -%}
    {%- set chunks = [] -%}
    {%- for batch in names | batch(50) -%}
        {%- set pairs = [] -%}
        {%- for name in batch -%}
            {%- do pairs.append(
                segment_string_literal(name) ~ ", " ~ segment_quote_identifier(name)
            ) -%}
        {%- endfor -%}
        {%- do chunks.append("jsonb_build_object(" ~ pairs | join(", ") ~ ")") -%}
    {%- endfor -%}
    {{ return("jsonb_strip_nulls(" ~ chunks | join(" || ") ~ ")") }}
{% endmacro %}
