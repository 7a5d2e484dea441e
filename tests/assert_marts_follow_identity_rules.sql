-- The identity rules (doc block identity_rules) hold in the marts after any sequence
-- of incremental runs:
-- every event's resolved_user_id is what the identity tables give today (a call
-- with a user id: that id's canonical id; without: the canonical id of its
-- device's link, else of its anonymous id's alias), no event of an excluded
-- component or of a device mapped to one is left, and users and sessions name
-- only canonical, included user ids.
with

events as (
    select * from {{ ref("events") }}
),

sessions as (
    select * from {{ ref("sessions") }}
),

users as (
    select * from {{ ref("users") }}
),

user_ids_merged as (
    select * from {{ ref("int_user_ids_merged") }}
),

anonymous_ids_linked as (
    select * from {{ ref("int_anonymous_ids_linked") }}
),

expected_events as (
    select
        events.source_schema,
        events.event_id,
        events.resolved_user_id,
        case
            when events.user_id is not null
                then coalesce(merged_user.canonical_user_id, events.user_id)
            when link.user_id is not null
                then coalesce(merged_link.canonical_user_id, link.user_id)
            else device_alias.canonical_user_id
        end as expected_resolved_user_id,
        case
            when events.user_id is not null
                then coalesce(merged_user.is_excluded, false)
            when link.user_id is not null
                then coalesce(merged_link.is_excluded, false)
            else coalesce(device_alias.is_excluded, false)
        end as is_excluded
    from events
    left join user_ids_merged as merged_user
        on events.user_id = merged_user.user_id and not merged_user.is_anonymous_id
    left join anonymous_ids_linked as link
        on events.user_id is null and events.anonymous_id = link.anonymous_id
    left join user_ids_merged as merged_link
        on link.user_id = merged_link.user_id and not merged_link.is_anonymous_id
    left join user_ids_merged as device_alias
        on
            events.user_id is null
            and events.anonymous_id = device_alias.user_id
            and device_alias.is_anonymous_id
),

wrong_events as (
    select
        'events' as model_name,
        source_schema || '/' || event_id as row_key,
        resolved_user_id as user_id,
        case
            when is_excluded then 'excluded user'
            else 'resolved to ' || coalesce(expected_resolved_user_id, 'null')
        end as problem
    from expected_events
    where
        is_excluded
        or resolved_user_id is distinct from expected_resolved_user_id
),

named_user_ids as (
    select
        'users' as model_name,
        user_id as row_key,
        user_id
    from users
    union all
    select
        'sessions' as model_name,
        session_id as row_key,
        resolved_user_id as user_id
    from sessions
    where resolved_user_id is not null
),

wrong_user_ids as (
    select
        named_user_ids.model_name,
        named_user_ids.row_key,
        named_user_ids.user_id,
        case
            when user_ids_merged.is_excluded then 'excluded user'
            else 'merged into ' || user_ids_merged.canonical_user_id
        end as problem
    from named_user_ids
    inner join user_ids_merged
        on
            named_user_ids.user_id = user_ids_merged.user_id
            and not user_ids_merged.is_anonymous_id
    where
        user_ids_merged.is_excluded
        or user_ids_merged.canonical_user_id != user_ids_merged.user_id
)

select * from wrong_events
union all
select * from wrong_user_ids
