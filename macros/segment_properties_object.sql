{% macro segment_properties_object(relation, exclude) %}
    {#-
        SQL for a jsonb object of a relation's columns that are not in exclude and not
        context_*, keyed by column name, nulls stripped; '{}' when there is none.
        Timestamps are written as UTC ('2024-03-01T10:00:00+00:00'), whatever the
        session's time zone.
        jsonb_build_object takes at most 100 arguments, so wide tables are built in
        chunks of 50 columns joined with ||.
    -#}
    {%- set names = [] -%}
    {%- set types = {} -%}
    {%- for name, data_type in relation.columns -%}
        {%- do types.update({name: data_type}) -%}
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
            {%- set value = segment_quote_identifier(name) -%}
            {%- if segment_base_type(types[name]) == "timestamp with time zone" -%}
                {#- to_jsonb() writes the session's offset: write UTC's instead. -#}
                {%- set value = "to_jsonb((to_jsonb(" ~ value
                    ~ " at time zone 'UTC') #>> '{}') || '+00:00')" -%}
            {%- endif -%}
            {%- do pairs.append(segment_string_literal(name) ~ ", " ~ value) -%}
        {%- endfor -%}
        {%- do chunks.append("jsonb_build_object(" ~ pairs | join(", ") ~ ")") -%}
    {%- endfor -%}
    {{ return("jsonb_strip_nulls(" ~ chunks | join(" || ") ~ ")") }}
{% endmacro %}
