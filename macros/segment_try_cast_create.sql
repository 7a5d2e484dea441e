{% macro segment_try_cast_create() -%}
    {#-
        on-run-start: the functions segment_try_cast() calls, in <target>_ops. Each
        returns null for a value its type cannot parse instead of failing the query,
        and reads text without an offset as UTC (SET timezone on the function), so
        that an imported table's odd value never fails a run nor depends on the
        server's time zone.
    -#}
    {%- set ops = adapter.quote(target.schema ~ "_ops") -%}
    create schema if not exists {{ ops }};
    {%- for data_type in segment_try_cast_types() %}
    create or replace function {{ ops }}.segment_try_{{ data_type.split(" ")[0] }}(
        value text
    ) returns {{ data_type }}
    language plpgsql immutable parallel safe
    set timezone to 'UTC'
    as $try$
    begin
        return value::{{ data_type }};
    exception when others then
        return null;
    end
    $try$;
    {%- endfor %}
{%- endmacro %}
