{{
    config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="anonymous_id",
        indexes=[
            {"columns": ["anonymous_id"], "unique": True},
            {"columns": ["user_id"]},
            {"columns": ["user_changed_at"]},
        ],
        post_hook=["{{ run_state_record() }}", "{{ analyze_if_stale() }}"],
    )
}}

{#-
    Identity rule 3: the user id each anonymous id (device) follows. A call or
    identify carrying both ids is a link; the most recent link wins (by occurred_at,
    then id). Devices linked only by an alias (rule 2) are in int_user_ids_merged.
    Links only accumulate, so an incremental run compares the latest new link of
    each device with the stored one and keeps the later: the same result in any
    load order. user_changed_at is the run in which the device last moved to another
    user id: a newer link to the same user changes no event.
-#}
{%- set since = run_state_since() %}

with

tracks as (
    select * from {{ ref("stg_segment__tracks") }}
),

pages as (
    select * from {{ ref("stg_segment__pages") }}
),

screens as (
    select * from {{ ref("stg_segment__screens") }}
),

identifies as (
    select * from {{ ref("stg_segment__identifies") }}
),

new_links as (
    select
        anonymous_id,
        user_id,
        occurred_at as linked_at,
        event_id as link_id
    from tracks
    where anonymous_id is not null and user_id is not null and staged_at > {{ since }}
    union all
    select
        anonymous_id,
        user_id,
        occurred_at as linked_at,
        event_id as link_id
    from pages
    where anonymous_id is not null and user_id is not null and staged_at > {{ since }}
    union all
    select
        anonymous_id,
        user_id,
        occurred_at as linked_at,
        event_id as link_id
    from screens
    where anonymous_id is not null and user_id is not null and staged_at > {{ since }}
    union all
    select
        anonymous_id,
        user_id,
        occurred_at as linked_at,
        message_id as link_id
    from identifies
    where anonymous_id is not null and user_id is not null and staged_at > {{ since }}
),

latest_new_link as (
    select distinct on (anonymous_id) *
    from new_links
    order by
        anonymous_id asc,
        linked_at desc,
        link_id desc,
        user_id desc
),

changed as (
    select
        latest_new_link.anonymous_id,
        latest_new_link.user_id,
        latest_new_link.link_id,
        latest_new_link.linked_at,
        {%- if is_incremental() %}
            case
                when previous.user_id = latest_new_link.user_id
                    then previous.user_changed_at
                else {{ segment_staged_at() }}
            end as user_changed_at
        {%- else %}
            {{ segment_staged_at() }} as user_changed_at
        {%- endif %}
    from
        latest_new_link
    {%- if is_incremental() %}
        left join {{ this }} as previous
            on latest_new_link.anonymous_id = previous.anonymous_id
        where
            previous.anonymous_id is null
            or (
                latest_new_link.linked_at,
                latest_new_link.link_id,
                latest_new_link.user_id
            ) > (
                previous.linked_at,
                previous.link_id,
                previous.user_id
            )
    {%- endif %}
)

select * from changed
