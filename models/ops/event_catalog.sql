{#-
    Every event name each source sends (track events, page_view, screen_view),
    from the per-day counts of int_source_event_days; the distinct persons of the
    last 28 days come from int_events' activity_date index, never from all of
    history. "Last N days" end at the warehouse's latest event day (UTC), so the
    catalog of a source that stopped loading does not empty itself.
-#}

with

days as (
    select * from {{ ref("int_source_event_days") }}
),

latest_day as (
    select max(activity_date) as latest_date from days
),

summary as (
    select
        days.source_schema,
        days.event_name,
        min(days.first_seen_at) as first_seen_at,
        max(days.last_seen_at) as last_seen_at,
        sum(days.event_count)::bigint as event_count,
        coalesce(
            sum(days.event_count) filter (
                where days.activity_date > latest_day.latest_date - 7
            ),
            0
        )::bigint as events_last_7d
    from days
    cross join latest_day
    group by days.source_schema, days.event_name
),

recent_persons as (
    select
        events.source_schema,
        events.event_name,
        count(distinct events.person_id) as persons_last_28d
    from {{ ref("int_events") }} as events
    where
        events.activity_date > (select latest_day.latest_date from latest_day) - 28
        and events.person_id is not null
    group by events.source_schema, events.event_name
),

planned as (
    select distinct event_name from {{ ref("tracking_plan") }}
)

select
    summary.source_schema,
    summary.event_name,
    summary.first_seen_at,
    summary.last_seen_at,
    summary.event_count,
    summary.events_last_7d,
    coalesce(recent_persons.persons_last_28d, 0)::bigint as persons_last_28d,
    planned.event_name is not null as is_planned
from summary
left join recent_persons
    on
        summary.source_schema = recent_persons.source_schema
        and summary.event_name = recent_persons.event_name
left join planned on summary.event_name = planned.event_name
