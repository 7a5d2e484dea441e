-- daily_active_users recounted the slow way from the events mart: one row for every
-- day from the first to the last event day, and for each day the distinct persons
-- active on it and in the trailing 7 and 28 days (the day included), and the
-- persons whose first event is that day.
with

daily_active_users as (
    select * from {{ ref("daily_active_users") }}
),

events as (
    select * from {{ ref("events") }}
),

person_days as (
    select distinct
        person_id,
        activity_date
    from events
    where person_id is not null
),

first_days as (
    select
        person_id,
        min(activity_date) as first_date
    from person_days
    group by person_id
),

-- timestamp, not the timestamptz dates would turn into: a step of a day in a session
-- zone whose DST change skips midnight would end the calendar a day early
calendar as (
    select calendar_days.calendar_day::date as activity_date
    from
        generate_series(
            (select min(events.activity_date)::timestamp from events),
            (select max(events.activity_date)::timestamp from events),
            interval '1 day'
        ) as calendar_days (calendar_day)
),

recounted as (
    select
        calendar.activity_date,
        count(distinct person_days.person_id) filter (
            where person_days.activity_date = calendar.activity_date
        ) as active_users_1d,
        count(distinct person_days.person_id) filter (
            where person_days.activity_date > calendar.activity_date - 7
        ) as active_users_7d,
        count(distinct person_days.person_id) as active_users_28d,
        count(distinct first_days.person_id) filter (
            where first_days.first_date = calendar.activity_date
        ) as new_users
    from calendar
    left join person_days
        on
            calendar.activity_date >= person_days.activity_date
            and calendar.activity_date < person_days.activity_date + 28
    left join first_days
        on person_days.person_id = first_days.person_id
    group by calendar.activity_date
),

compared as (
    select
        daily_active_users.active_users_1d,
        recounted.active_users_1d as recounted_active_users_1d,
        daily_active_users.active_users_7d,
        recounted.active_users_7d as recounted_active_users_7d,
        daily_active_users.active_users_28d,
        recounted.active_users_28d as recounted_active_users_28d,
        daily_active_users.new_users,
        recounted.new_users as recounted_new_users,
        coalesce(daily_active_users.activity_date, recounted.activity_date)
            as activity_date
    from daily_active_users
    full outer join recounted
        on daily_active_users.activity_date = recounted.activity_date
)

select *
from compared
where
    active_users_1d is distinct from recounted_active_users_1d
    or active_users_7d is distinct from recounted_active_users_7d
    or active_users_28d is distinct from recounted_active_users_28d
    or new_users is distinct from recounted_new_users
