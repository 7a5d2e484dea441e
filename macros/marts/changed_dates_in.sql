{% macro changed_dates_in(staging, since) -%}
    {#- changed_dates() for one staging relation of calls. -#}
    select distinct (staged.occurred_at at time zone 'UTC')::date as activity_date
    from {{ staging }} as staged
    inner join ({{ changed_devices(since) }}) as changed
        on
            coalesce(staged.anonymous_id, 'user:' || staged.user_id)
            = changed.device_key
            and staged.occurred_at >= changed.recompute_from
    where
        -- the same condition again, in a form the staging indexes can serve
        staged.anonymous_id in (
            select device_changes.device_key
            from {{ ref("int_device_changes") }} as device_changes
            where device_changes.changed_at > {{ since }}
        )
        or staged.user_id in (
            select substr(device_changes.device_key, 6)
            from {{ ref("int_device_changes") }} as device_changes
            where
                device_changes.changed_at > {{ since }}
                and device_changes.device_key like 'user:%'
        )
    union
    select distinct (staged.occurred_at at time zone 'UTC')::date as activity_date
    from {{ staging }} as staged
    where
        staged.anonymous_id is null
        and staged.user_id is null
        and staged.staged_at > {{ since }}
{%- endmacro %}
