-- Per person, session_number is exactly 1..n in the order of started_at (then
-- session_id): no gap, no duplicate, even after incremental runs that renumber
-- only the sessions they rebuild.
with

sessions as (
    select * from {{ ref("sessions") }}
),

expected as (
    select
        session_id,
        person_id,
        session_number,
        row_number() over (
            partition by person_id order by started_at asc, session_id asc
        ) as expected_session_number
    from sessions
)

select *
from expected
where session_number is distinct from expected_session_number
