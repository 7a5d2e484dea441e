{#-
    Group calls with a group id, resolved to persons by the identity rules (README,
    "For analysts", identity); calls of excluded users are left out. The one input
    of accounts and account_members. Rebuilt in full on every run: group calls are
    few, and a late alias can move any of them to another person.
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
    resolved.message_id,
    resolved.source_schema,
    resolved.group_id,
    resolved.anonymous_id,
    resolved.user_id,
    resolved.traits,
    resolved.occurred_at,
    resolved.received_at,
    resolved.loaded_at,
    resolved.resolved_user_id,
    coalesce(resolved.resolved_user_id, resolved.anonymous_id) as person_id
from resolved
where not resolved.is_excluded
