{% macro users_changed_keys() -%}
    {#-
        The changed keys of users: SQL selecting `user_id`, the canonical and merged
        user ids whose users row may have changed since the model's last run:
        users whose events changed (resolved_user_id in int_events' change log: a
        person_id without one is an anonymous device, never a users row), users
        with newly staged identify calls,
        ids whose alias component or exclusion changed (with their canonical ids),
        and ids that appeared in Segment's users table.
    -#}
    {%- set since = run_state_since() %}
        select event_changes.resolved_user_id as user_id
        from {{ change_log("int_events") }} as event_changes
        where event_changes.resolved_user_id is not null
        union
        select coalesce(merged.canonical_user_id, identifies.user_id) as user_id
        from {{ ref("stg_segment__identifies") }} as identifies
        left join {{ ref("int_user_ids_merged") }} as merged
            on identifies.user_id = merged.user_id and not merged.is_anonymous_id
        where
            identifies.staged_at > {{ since }}
            and identifies.user_id is not null
        union
        select coalesce(merged.canonical_user_id, link.user_id) as user_id
        from {{ ref("stg_segment__identifies") }} as identifies
        inner join {{ ref("int_anonymous_ids_linked") }} as link
            on identifies.anonymous_id = link.anonymous_id
        left join {{ ref("int_user_ids_merged") }} as merged
            on link.user_id = merged.user_id and not merged.is_anonymous_id
        where
            identifies.staged_at > {{ since }}
            and identifies.user_id is null
        union
        select device_alias.canonical_user_id as user_id
        from {{ ref("stg_segment__identifies") }} as identifies
        inner join {{ ref("int_user_ids_merged") }} as device_alias
            on
                identifies.anonymous_id = device_alias.user_id
                and device_alias.is_anonymous_id
        where
            identifies.staged_at > {{ since }}
            and identifies.user_id is null
        union
        select merged.user_id
        from {{ ref("int_user_ids_merged") }} as merged
        where merged.changed_at > {{ since }}
        union
        select merged.canonical_user_id as user_id
        from {{ ref("int_user_ids_merged") }} as merged
        where merged.changed_at > {{ since }}
        union
        select segment_users.user_id
        from {{ ref("stg_segment__users") }} as segment_users
    {%- if change_driven_is_incremental() %}
            where not exists (
                select 1 from {{ this }} as existing
                where existing.user_id = segment_users.user_id
            )
    {%- endif %}
{%- endmacro %}
