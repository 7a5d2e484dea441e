-- Each user's event_count, first_seen_at and last_seen_at equal a recount of the
-- events resolved to them, session_count a recount of their sessions; every
-- resolved user id of the events mart has a users row.
with

users as (
    select * from {{ ref("users") }}
),

events as (
    select * from {{ ref("events") }}
),

sessions as (
    select * from {{ ref("sessions") }}
),

event_activity as (
    select
        resolved_user_id as user_id,
        count(*) as event_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from events
    where resolved_user_id is not null
    group by resolved_user_id
),

session_activity as (
    select
        resolved_user_id as user_id,
        count(*) as session_count
    from sessions
    where resolved_user_id is not null
    group by resolved_user_id
),

compared as (
    select
        users.user_id,
        event_activity.user_id as events_user_id,
        users.event_count,
        event_activity.event_count as events_event_count,
        users.session_count,
        session_activity.session_count as sessions_session_count,
        users.first_seen_at,
        event_activity.first_seen_at as events_first_seen_at,
        users.last_seen_at,
        event_activity.last_seen_at as events_last_seen_at
    from users
    full outer join event_activity on users.user_id = event_activity.user_id
    left join session_activity on users.user_id = session_activity.user_id
)

select *
from compared
where
    user_id is null
    or event_count != coalesce(events_event_count, 0)
    or session_count != coalesce(sessions_session_count, 0)
    or first_seen_at is distinct from events_first_seen_at
    or last_seen_at is distinct from events_last_seen_at
