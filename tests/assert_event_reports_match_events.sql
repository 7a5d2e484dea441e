-- The seed reports account for every event they report on: the views in
-- deployment_views_by_user add up to the deployments_show events, and
-- monthly_deployments_created to the deployments_new events, month by month.
with

events as (
    select * from {{ ref("events") }}
),

deployment_views_by_user as (
    select * from {{ ref("deployment_views_by_user") }}
),

monthly_deployments_created as (
    select * from {{ ref("monthly_deployments_created") }}
),

views_recounted as (
    select
        count(*) as event_count,
        count(distinct person_id) as person_count
    from events
    where event_name = 'deployments_show'
),

views_reported as (
    select
        coalesce(sum(view_count), 0) as event_count,
        count(distinct person_id) as person_count
    from deployment_views_by_user
),

created_recounted as (
    select
        date_trunc('month', activity_date::timestamp)::date as event_month,
        count(*) as event_count,
        count(distinct person_id) as person_count
    from events
    where event_name = 'deployments_new'
    group by date_trunc('month', activity_date::timestamp)
),

wrong_views as (
    select
        'deployment_views_by_user' as model_name,
        null::date as event_month,
        views_reported.event_count,
        views_recounted.event_count as recounted_event_count,
        views_reported.person_count,
        views_recounted.person_count as recounted_person_count
    from views_reported
    cross join views_recounted
    where
        views_reported.event_count != views_recounted.event_count
        or views_reported.person_count != views_recounted.person_count
),

wrong_months as (
    select
        'monthly_deployments_created' as model_name,
        monthly_deployments_created.deployments_created as event_count,
        created_recounted.event_count as recounted_event_count,
        monthly_deployments_created.creators as person_count,
        created_recounted.person_count as recounted_person_count,
        coalesce(
            monthly_deployments_created.event_month, created_recounted.event_month
        ) as event_month
    from monthly_deployments_created
    full outer join created_recounted
        on monthly_deployments_created.event_month = created_recounted.event_month
    where
        monthly_deployments_created.deployments_created
        is distinct from created_recounted.event_count
        or monthly_deployments_created.creators
        is distinct from created_recounted.person_count
)

select
    model_name,
    event_month,
    event_count,
    recounted_event_count,
    person_count,
    recounted_person_count
from wrong_views
union all
select
    model_name,
    event_month,
    event_count,
    recounted_event_count,
    person_count,
    recounted_person_count
from wrong_months
