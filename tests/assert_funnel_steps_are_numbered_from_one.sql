-- seeds/funnels.csv: each funnel's steps are numbered 1, 2, ... n without a gap
-- (funnel_conversions has a row per step and divides by the previous step).
select
    funnel_name,
    min(step_number) as first_step,
    max(step_number) as last_step,
    count(*) as steps
from {{ ref("funnels") }}
group by funnel_name
having min(step_number) != 1 or max(step_number) != count(*)
