{% macro sessions_changed_keys() -%}
    {#-
        The changed keys of sessions: SQL selecting (person_id, recompute_from) for
        every session holding an event in int_events' change log, as stored (its
        person and start in the sessions mart) and as it is now (each person of its
        events in int_events, from its first event). Rebuilding each such person's
        sessions from the earliest of those starts rebuilds every session that
        changed, and renumbers the ones after it.
    -#}
    with logged_sessions as (
        select distinct event_changes.session_id
        from {{ change_log("int_events") }} as event_changes
        where event_changes.session_id is not null
    )

    select
        stored.person_id,
        stored.started_at as recompute_from
    from logged_sessions
    inner join {{ this }} as stored
        on logged_sessions.session_id = stored.session_id
    union all
    select
        session_now.person_id,
        session_now.started_at as recompute_from
    from logged_sessions
    -- offset 0: one session_id index lookup per session, never a whole-index join
    cross join lateral (
        select
            session_events.person_id,
            min(min(session_events.occurred_at)) over () as started_at
        from {{ ref("int_events") }} as session_events
        where session_events.session_id = logged_sessions.session_id
        group by session_events.person_id
        offset 0
    ) as session_now
{%- endmacro %}
