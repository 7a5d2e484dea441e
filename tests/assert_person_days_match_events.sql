-- int_person_days holds exactly the (person, UTC day) pairs of the events mart
-- with their event counts, after any sequence of incremental runs.
with

person_days as (
    select * from {{ ref("int_person_days") }}
),

events as (
    select * from {{ ref("events") }}
),

recounted as (
    select
        person_id,
        activity_date,
        count(*) as event_count
    from events
    where person_id is not null
    group by person_id, activity_date
),

compared as (
    select
        person_days.event_count,
        recounted.event_count as recounted_event_count,
        coalesce(person_days.person_id, recounted.person_id) as person_id,
        coalesce(person_days.activity_date, recounted.activity_date)
            as activity_date
    from person_days
    full outer join recounted
        on
            person_days.person_id = recounted.person_id
            and person_days.activity_date = recounted.activity_date
)

select *
from compared
where event_count is distinct from recounted_event_count
