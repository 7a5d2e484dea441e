{{
    config(
        materialized="change_driven",
        recompute_by=[],
        indexes=[{"columns": ["changed_at"]}],
    )
}}

{#-
    The change log that drives int_events: each run appends one row per device
    (device key: anonymous_id, else 'user:' || user_id) whose events must be
    recomputed, with the time from which to recompute them:
    - newly staged calls or late event-table properties: from the earliest new
      call (int_events widens it to the start of the session it joins);
    - the device's anonymous id now follows another user id, or its calls carry a
      user id whose canonical id or exclusion changed: its whole history.
    A full build logs every device from the start.
-#}
{%- set since = run_state_since() %}

with

tracks as (
    select * from {{ ref("stg_segment__tracks") }}
),

track_properties as (
    select * from {{ ref("stg_segment__track_properties") }}
),

anonymous_ids_linked as (
    select * from {{ ref("int_anonymous_ids_linked") }}
),

user_ids_merged as (
    select * from {{ ref("int_user_ids_merged") }}
),

changed_user_ids as (
    select user_id from user_ids_merged
    where changed_at > {{ since }}
),

reasons as (
    -- two branches per staging table, each served by one index (staged_at,
    -- user_id): one condition or the other would scan the whole table
    {%- for calls in ["tracks", "pages", "screens"] %}
        select
            device_key,
            occurred_at as recompute_from
        from {{ ref("stg_segment__" ~ calls) }}
        where staged_at > {{ since }}
        union all
        select
            device_key,
            '-infinity'::timestamptz as recompute_from
        from {{ ref("stg_segment__" ~ calls) }}
        where user_id in (select changed_user_ids.user_id from changed_user_ids)
        union all
    {%- endfor %}
    select
        tracks.device_key,
        tracks.occurred_at as recompute_from
    from track_properties
    inner join tracks
        on
            track_properties.source_schema = tracks.source_schema
            and track_properties.event_id = tracks.event_id
    where track_properties.staged_at > {{ since }}
    union all
    select
        user_id as device_key,
        '-infinity'::timestamptz as recompute_from
    from user_ids_merged
    where is_anonymous_id and changed_at > {{ since }}
    union all
    select
        anonymous_id as device_key,
        '-infinity'::timestamptz as recompute_from
    from anonymous_ids_linked
    where
        user_changed_at > {{ since }}
        or user_id in (select changed_user_ids.user_id from changed_user_ids)
),

changed_devices as (
    select
        device_key,
        min(recompute_from) as recompute_from
    from reasons
    where device_key is not null
    group by device_key
),

logged as (
    select
        device_key,
        recompute_from,
        {{ segment_staged_at() }} as changed_at
    from changed_devices
)

select * from logged
