{% macro changed_devices(since) -%}
    {#-
        SQL selecting (device_key, recompute_from): the devices logged in
        int_device_changes after `since` (a timestamptz literal), each with the
        earliest time from which its events must be recomputed.
    -#}
    select
        device_key,
        min(recompute_from) as recompute_from
    from {{ ref("int_device_changes") }}
    where changed_at > {{ since }}
    group by device_key
{%- endmacro %}
