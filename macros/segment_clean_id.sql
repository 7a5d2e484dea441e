{% macro segment_clean_id(column) -%}
    {#-
        SQL for an identity column with junk values nulled: a value whose
        lower(trim(value)) is in var('identity_ignore_values') becomes null.
    -#}
    {%- set ignored = [] -%}
    {%- for value in segment_settings().identity_ignore_values -%}
        {%- do ignored.append(segment_string_literal(value | string | trim | lower)) -%}
    {%- endfor -%}
    {%- if ignored | length == 0 -%}
        {{ column }}
    {%- else -%}
        case
            when lower(trim({{ column }})) in ({{ ignored | join(", ") }}) then null
            else {{ column }}
        end
    {%- endif -%}
{%- endmacro %}
