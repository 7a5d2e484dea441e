{% macro daily_active_users_changed_dates() -%}
    {#-
        The changed keys of daily_active_users: the stored days from the earliest
        day whose presence changed on (daily_active_users_presence_changes(): their
        windows and new users move),
        the days the calendar (first to last day of int_events) gained, and the
        stored days it lost.
    -#}
    with bounds as (
        select
            min(activity_date) as first_date,
            max(activity_date) as last_date
        from {{ ref("int_events") }}
    ),

    change_start as (
        select min(presence.activity_date) as first_changed_date
        from ({{ daily_active_users_presence_changes() }}) as presence
    )

    select stored.activity_date
    from {{ this }} as stored
    cross join bounds
    cross join change_start
    where
        stored.activity_date >= change_start.first_changed_date
        or bounds.first_date is null
        or stored.activity_date not between bounds.first_date and bounds.last_date
    union
    select bounds.first_date + day_offsets.day_offset as activity_date
    from bounds
    cross join generate_series(0, bounds.last_date - bounds.first_date)
        as day_offsets (day_offset)
    where not exists (
        select 1 from {{ this }} as stored
        where stored.activity_date = bounds.first_date + day_offsets.day_offset
    )
{%- endmacro %}
