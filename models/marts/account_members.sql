{{
    config(
        indexes=[
            {"columns": ["group_id", "person_id"], "unique": True},
            {"columns": ["person_id"]},
        ]
    )
}}

{#-
    Who belongs to which account (README, "For analysts", accounts): every person
    who sent a group call with the group id, after identity stitching, so calls
    from a person's devices and merged user ids count as one member. Rebuilt in
    full on every run: group calls are few, and a late alias can move any of them
    to another person.
-#}

with

group_calls as (
    select *
    from {{ ref("stg_segment__groups") }}
    where group_id is not null
),

resolved as (
    {{ resolve_identity("group_calls") }}
)

select
    group_id,
    coalesce(resolved_user_id, anonymous_id) as person_id,
    min(occurred_at) as first_grouped_at,
    max(occurred_at) as last_grouped_at
from resolved
where
    not is_excluded
    and coalesce(resolved_user_id, anonymous_id) is not null
group by group_id, coalesce(resolved_user_id, anonymous_id)
