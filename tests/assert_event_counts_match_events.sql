-- daily_event_counts and monthly_event_counts hold exactly the counts a recount of
-- the events mart gives, every (period, event_name) present in one is present in
-- the other, and both add up to the number of events.
with

events as (
    select * from {{ ref("events") }}
),

daily_event_counts as (
    select * from {{ ref("daily_event_counts") }}
),

monthly_event_counts as (
    select * from {{ ref("monthly_event_counts") }}
),

recounted_days as (
    select
        activity_date,
        event_name,
        count(*) as event_count,
        count(distinct person_id) as person_count
    from events
    group by activity_date, event_name
),

recounted_months as (
    select
        event_name,
        date_trunc('month', activity_date::timestamp)::date as event_month,
        count(*) as event_count,
        count(distinct person_id) as person_count
    from events
    group by event_name, date_trunc('month', activity_date::timestamp)
),

wrong_days as (
    select
        'daily_event_counts' as model_name,
        daily_event_counts.event_count,
        recounted_days.event_count as recounted_event_count,
        daily_event_counts.person_count,
        recounted_days.person_count as recounted_person_count,
        coalesce(daily_event_counts.activity_date, recounted_days.activity_date)
            as period_date,
        coalesce(daily_event_counts.event_name, recounted_days.event_name)
            as event_name
    from daily_event_counts
    full outer join recounted_days
        on
            daily_event_counts.activity_date = recounted_days.activity_date
            and daily_event_counts.event_name is not distinct from
            recounted_days.event_name
    where
        daily_event_counts.event_count is distinct from recounted_days.event_count
        or daily_event_counts.person_count
        is distinct from recounted_days.person_count
),

wrong_months as (
    select
        'monthly_event_counts' as model_name,
        monthly_event_counts.event_count,
        recounted_months.event_count as recounted_event_count,
        monthly_event_counts.person_count,
        recounted_months.person_count as recounted_person_count,
        coalesce(monthly_event_counts.event_month, recounted_months.event_month)
            as period_date,
        coalesce(monthly_event_counts.event_name, recounted_months.event_name)
            as event_name
    from monthly_event_counts
    full outer join recounted_months
        on
            monthly_event_counts.event_month = recounted_months.event_month
            and monthly_event_counts.event_name is not distinct from
            recounted_months.event_name
    where
        monthly_event_counts.event_count
        is distinct from recounted_months.event_count
        or monthly_event_counts.person_count
        is distinct from recounted_months.person_count
),

totals as (
    select
        (select count(*) from events) as event_count,
        (
            select coalesce(sum(daily_event_counts.event_count), 0)
            from daily_event_counts
        ) as daily_event_count,
        (
            select coalesce(sum(monthly_event_counts.event_count), 0)
            from monthly_event_counts
        ) as monthly_event_count
),

wrong_totals as (
    select
        'daily_event_counts total' as model_name,
        daily_event_count as event_count,
        event_count as recounted_event_count,
        null::bigint as person_count,
        null::bigint as recounted_person_count,
        null::date as period_date,
        null::text as event_name
    from totals
    where daily_event_count != event_count
    union all
    select
        'monthly_event_counts total' as model_name,
        monthly_event_count as event_count,
        event_count as recounted_event_count,
        null::bigint as person_count,
        null::bigint as recounted_person_count,
        null::date as period_date,
        null::text as event_name
    from totals
    where monthly_event_count != event_count
)

select * from wrong_days
union all
select * from wrong_months
union all
select * from wrong_totals
