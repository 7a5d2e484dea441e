{% macro changed_dates_in(staging, since, upto=none) -%}
    {#- changed_dates() for one staging relation of calls. -#}
    select distinct (staged.occurred_at at time zone 'UTC')::date as activity_date
    from {{ staging }} as staged
    inner join ({{ changed_devices(since, upto) }}) as changed
        on
            staged.device_key = changed.device_key
            and staged.occurred_at >= changed.recompute_from
    union
    select distinct (staged.occurred_at at time zone 'UTC')::date as activity_date
    from {{ staging }} as staged
    where
        staged.device_key is null
        and {{ run_state_window("staged.staged_at", since, upto) }}
{%- endmacro %}
