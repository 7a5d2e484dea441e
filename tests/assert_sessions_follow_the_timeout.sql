-- The session rule (doc block session_rule) on the events mart: along each device's
-- timeline a gap
-- of more than session_timeout_minutes starts a new session and a shorter or equal
-- gap never does, and each session is one unbroken run of the device's events.
with

events as (
    select * from {{ ref("events") }}
),

timeline as (
    select
        device_key,
        source_schema,
        event_id,
        session_id,
        occurred_at,
        lag(session_id) over device_timeline as previous_session_id,
        occurred_at - lag(occurred_at) over device_timeline as gap
    from events
    where device_key is not null
    window device_timeline as (
        partition by device_key
        order by occurred_at asc, event_id asc, source_schema asc
    )
),

wrong_cuts as (
    select
        device_key,
        source_schema,
        event_id,
        session_id,
        'cut does not match the gap' as problem
    from timeline
    where
        gap is not null
        and (session_id is distinct from previous_session_id)
        != (gap > interval '{{ var("session_timeout_minutes") | int }} minutes')
),

broken_sessions as (
    select
        min(device_key) as device_key,
        null as source_schema,
        null as event_id,
        session_id,
        'session split in several runs' as problem
    from timeline
    where session_id is distinct from previous_session_id
    group by session_id
    having count(*) > 1
)

select * from wrong_cuts
union all
select * from broken_sessions
