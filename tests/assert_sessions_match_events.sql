-- Each session summarises exactly the events that carry its session_id: same
-- device, count, page count, first and last occurred_at, first event's source.
with

sessions as (
    select * from {{ ref("sessions") }}
),

events as (
    select * from {{ ref("events") }}
),

session_events as (
    select
        session_id,
        min(device_key) as device_key,
        count(distinct device_key) as device_count,
        count(*) as event_count,
        count(*) filter (where event_type = 'page') as page_view_count,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at
    from events
    where session_id is not null
    group by session_id
),

compared as (
    select
        sessions.event_count,
        session_events.event_count as events_event_count,
        sessions.page_view_count,
        session_events.page_view_count as events_page_view_count,
        sessions.started_at,
        session_events.started_at as events_started_at,
        sessions.ended_at,
        session_events.ended_at as events_ended_at,
        sessions.device_key,
        session_events.device_key as events_device_key,
        session_events.device_count,
        coalesce(sessions.session_id, session_events.session_id) as session_id
    from sessions
    full outer join session_events
        on sessions.session_id = session_events.session_id
)

select *
from compared
where
    event_count is distinct from events_event_count
    or page_view_count is distinct from events_page_view_count
    or started_at is distinct from events_started_at
    or ended_at is distinct from events_ended_at
    or device_key is distinct from events_device_key
    or device_count != 1
