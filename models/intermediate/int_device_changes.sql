{{
    config(
        materialized="incremental",
        incremental_strategy="append",
        indexes=[{"columns": ["changed_at"]}, {"columns": ["device_key"]}],
        post_hook=["{{ run_state_record() }}", "analyze {{ this }}"],
    )
}}

{#-
    The change log that drives the incremental marts. Each run appends one row per
    device (SPEC 5 device key: anonymous_id, else 'user:' || user_id) whose events
    must be recomputed, with the time from which to recompute them:
    - newly staged calls or late event-table properties: from the start of the
      session, in the events mart, that holds the device's last event before the
      earliest new one (a late event can extend or merge that session, never an
      earlier one);
    - the device's anonymous id now follows another user id, or its calls carry a
      user id whose canonical id or exclusion changed: its whole history.
    It also records the persons the device's events from that time belonged to
    before this run (read from the events mart, which this model runs before), so
    per-person models rebuild the persons a device leaves as well as the one it
    joins. Consumers select `changed_at > <their own last completed run>`.
-#}
{%- set since = run_state_since() %}
{%- set events_mart = mart_relation("events") %}

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
    -- one branch per staging table, so that each uses its own indexes
    {%- for calls in ["tracks", "pages", "screens"] %}
        select
            device_key,
            case
                when user_id in (select changed_user_ids.user_id from changed_user_ids)
                    then '-infinity'::timestamptz
                else occurred_at
            end as recompute_from
        from {{ ref("stg_segment__" ~ calls) }}
        where
            staged_at > {{ since }}
            or user_id in (select changed_user_ids.user_id from changed_user_ids)
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

{%- if events_mart is not none and is_incremental() %}

    cut as (
        select
            changed_devices.device_key,
            least(
                changed_devices.recompute_from,
                (
                    select min(session_start.occurred_at)
                    from {{ events_mart }} as session_start
                    where session_start.session_id = (
                        select previous_event.session_id
                        from {{ events_mart }} as previous_event
                        where
                            previous_event.device_key = changed_devices.device_key
                            and previous_event.occurred_at
                            < changed_devices.recompute_from
                        order by
                            previous_event.occurred_at desc,
                            previous_event.event_id desc
                        limit 1
                    )
                )
            ) as recompute_from
        from changed_devices
    ),

    previous_persons as (
        select
            cut.device_key,
            array_agg(distinct events.person_id order by events.person_id)
                as previous_person_ids
        from cut
        inner join {{ events_mart }} as events
            on
                cut.device_key = events.device_key
                and cut.recompute_from <= events.occurred_at
        where events.person_id is not null
        group by cut.device_key
    ),

    logged as (
        select
            cut.device_key,
            cut.recompute_from,
            coalesce(previous_persons.previous_person_ids, '{}'::text[])
                as previous_person_ids,
            {{ segment_staged_at() }} as changed_at
        from cut
        left join previous_persons on cut.device_key = previous_persons.device_key
    )
{%- else %}

    -- a full build: every device from the start (consumers rebuild in full too)
    logged as (
        select
            device_key,
            '-infinity'::timestamptz as recompute_from,
            '{}'::text[] as previous_person_ids,
            {{ segment_staged_at() }} as changed_at
        from changed_devices
    )
{%- endif %}

select * from logged
