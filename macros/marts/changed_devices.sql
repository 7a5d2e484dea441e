{% macro changed_devices() -%}
    {#-
        The changed keys of int_events: each device logged in int_device_changes
        since int_events' last run, with the time from which its events are
        recomputed, moved back to the start of the session (in int_events as it
        stands) that holds the device's last event before that time, when that
        event is at most the session timeout earlier. A late event can extend or
        merge that session, never an earlier one, and a later one starts a session
        of its own, so sessionizing from there gives what a full build gives.
    -#}
    {%- set timeout = var("session_timeout_minutes") | int %}
    with logged as (
        select
            device_key,
            min(recompute_from) as recompute_from
        from {{ ref("int_device_changes") }}
        where changed_at > {{ run_state_since() }}
        group by device_key
    )

    select
        logged.device_key,
        least(
            logged.recompute_from,
            (
                select min(session_start.occurred_at)
                from {{ this }} as session_start
                where session_start.session_id = (
                    select previous_event.session_id
                    from {{ this }} as previous_event
                    where
                        previous_event.device_key = logged.device_key
                        and previous_event.occurred_at < logged.recompute_from
                        and previous_event.occurred_at
                        >= logged.recompute_from - interval '{{ timeout }} minutes'
                    order by
                        previous_event.occurred_at desc,
                        previous_event.event_id desc
                    limit 1
                )
            )
        ) as recompute_from
    from logged
{%- endmacro %}
