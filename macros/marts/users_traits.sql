{% macro users_traits(alias, traits) -%}
    {#-
        For a report joined to the users mart (as alias): one text column per entry
        of traits, which maps an output column to a trait column of users; a trait
        the warehouse lacks gives null. The users columns are read when the model
        compiles, so a view over users picks up a new trait on the next run.
    -#}
    {%- set user_columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(ref("users")) -%}
            {%- do user_columns.append(column.name) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for output, trait in traits.items() %}
        {%- if trait in user_columns %}
            {{ alias }}.{{ segment_quote_identifier(trait) }}::text
        {%- else %}
            null::text
        {%- endif %} as {{ segment_quote_identifier(output) }}
        {{- "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
