{{
    config(
        indexes=[
            {"columns": ["group_id", "person_id"], "unique": True},
            {"columns": ["person_id"]},
        ]
    )
}}

{#-
    Who belongs to which account (README, "For analysts", accounts): the persons
    of int_group_calls, so calls from a person's devices and merged user ids count
    as one member. Rebuilt in full on every run, as int_group_calls is.
-#}

select
    group_id,
    person_id,
    min(occurred_at) as first_grouped_at,
    max(occurred_at) as last_grouped_at
from {{ ref("int_group_calls") }}
where person_id is not null
group by group_id, person_id
