-- int_user_ids_merged describes whole alias components: a canonical id is a user id
-- that is its own canonical id and shares the exclusion of every id (or aliased
-- anonymous id) merged into it, and every id of an alias call, either side, is in
-- the table.
with

user_ids_merged as (
    select * from {{ ref("int_user_ids_merged") }}
),

aliases as (
    select * from {{ ref("stg_segment__aliases") }}
),

wrong_canonical_ids as (
    select
        members.user_id,
        members.canonical_user_id,
        'canonical id does not name itself or differs in exclusion' as problem
    from user_ids_merged as members
    left join user_ids_merged as canonical
        on
            members.canonical_user_id = canonical.user_id
            and not canonical.is_anonymous_id
    where
        canonical.user_id is null
        or canonical.canonical_user_id != canonical.user_id
        or canonical.is_excluded != members.is_excluded
),

alias_ids as (
    select user_id from aliases
    where user_id is not null
    union
    select previous_id as user_id from aliases
    where user_id is not null and previous_id is not null
),

missing_ids as (
    select
        alias_ids.user_id,
        null as canonical_user_id,
        'alias id missing' as problem
    from alias_ids
    left join user_ids_merged on alias_ids.user_id = user_ids_merged.user_id
    where user_ids_merged.user_id is null
)

select * from wrong_canonical_ids
union all
select * from missing_ids
