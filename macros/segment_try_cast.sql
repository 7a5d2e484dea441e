{% macro segment_try_cast(column, data_type) -%}
    {#-
        SQL calling <target>_ops.segment_try_<type>(column): the text value read as
        data_type (one of segment_try_cast_types()), or null when it cannot be
        parsed. The functions are made by segment_try_cast_create() at run start.
    -#}
    {{ adapter.quote(target.schema ~ "_ops") }}.segment_try_{{
        data_type.split(" ")[0] }}({{ column }})
{%- endmacro %}
