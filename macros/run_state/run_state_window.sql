{% macro run_state_window(column, since, upto=none) -%}
    {#-
        SQL condition: `column` (a change or staging stamp) falls after `since` and,
        when `upto` is given, not after `upto` (timestamptz literals).
    -#}
    {{ column }} > {{ since }}
    {%- if upto is not none %} and {{ column }} <= {{ upto }}{% endif %}
{%- endmacro %}
