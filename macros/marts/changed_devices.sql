{% macro changed_devices(since, upto=none) -%}
    {#-
        SQL selecting (device_key, recompute_from): the devices logged in
        int_device_changes after `since` and up to `upto` (timestamptz literals; no
        upper bound when upto is none), each with the
        earliest time from which its events must be recomputed.
    -#}
    select
        device_key,
        min(recompute_from) as recompute_from
    from {{ ref("int_device_changes") }}
    where {{ run_state_window("changed_at", since, upto) }}
    group by device_key
{%- endmacro %}
