{{
    config(
        materialized="change_driven",
        recompute_by=["user_id"],
        changed_keys=[{"macro": "users_changed_keys"}],
        change_logs=["int_events"],
        on_schema_change="append_new_columns",
        channel_rules=True,
        indexes=[{"columns": ["user_id"], "unique": True}],
    )
}}

{#-
    One row per canonical user id (README, "For analysts", identity): activity from int_events
    and the sessions mart, merged ids from the alias components, and every identify trait column
    with its latest non-null value over the identify calls resolved to the user.
    An incremental run rebuilds the users whose events, identify calls, alias
    component or Segment users row changed since its last completed run; their
    event counts are the stored ones plus the signed events of int_events' change
    log (resolved_user_id), and their first and last events the stored ones widened
    by the added events, so a busy user's history is not read again. Only a user
    who lost an event at or beyond a stored first or last event is looked up in
    int_events' (person_id, occurred_at) index. first_touch_channel is the channel
    of the person's first session; editing the channel rules rebuilds the table
    (channel_rules, as for sessions).
-#}
{%- set base_columns = [
    "message_id", "source_schema", "anonymous_id", "user_id", "occurred_at",
    "event_timestamp", "sent_at", "original_timestamp", "received_at", "loaded_at",
    "staged_at",
] %}
{%- set own_columns = [
    "user_id", "merged_user_ids", "event_count", "session_count", "identify_count",
    "first_seen_at", "last_seen_at", "first_touch_channel",
] %}
{%- set traits = [] %}
{%- if execute %}
    {%- for column in adapter.get_columns_in_relation(ref("stg_segment__identifies")) %}
        {%- if column.name not in base_columns %}
            {%- do traits.append(column.name) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

with

events as not materialized (
    select * from {{ ref("int_events") }}
),

sessions as (
    select * from {{ ref("sessions") }}
),

identifies as (
    select * from {{ ref("stg_segment__identifies") }}
),

segment_users as (
    select * from {{ ref("stg_segment__users") }}
),

user_ids_merged as not materialized (
    select * from {{ ref("int_user_ids_merged") }}
),

resolved_identifies as (
    {{ resolve_identity("identifies") }}
),

segment_users_resolved as (
    select
        coalesce(merged.canonical_user_id, segment_users.user_id) as user_id,
        coalesce(merged.is_excluded, false) as is_excluded
    from segment_users
    left join user_ids_merged as merged
        on segment_users.user_id = merged.user_id and not merged.is_anonymous_id
),

{%- if change_driven_is_incremental() %}

    -- The signed events of int_events' change log per user: the count to add to
    -- the stored one, and the first and last event added and removed
    event_changes as (
        select
            logged.resolved_user_id as user_id,
            sum(logged.change_sign) as event_count_change,
            min(logged.occurred_at) filter (where logged.change_sign > 0) as added_first,
            max(logged.occurred_at) filter (where logged.change_sign > 0) as added_last,
            min(logged.occurred_at) filter (where logged.change_sign < 0) as removed_first,
            max(logged.occurred_at) filter (where logged.change_sign < 0) as removed_last
        from {{ change_log("int_events") }} as logged
        where logged.resolved_user_id is not null
        group by logged.resolved_user_id
    ),

    changed_users as (
        select
            changed.user_id,
            stored.first_seen_at as stored_first_seen_at,
            stored.last_seen_at as stored_last_seen_at,
            event_changes.added_first,
            event_changes.added_last,
            event_changes.removed_first,
            event_changes.removed_last,
            coalesce(stored.event_count, 0)
            + coalesce(event_changes.event_count_change, 0) as event_count
        from {{ changed_keys_relation() }} as changed
        left join {{ this }} as stored on changed.user_id = stored.user_id
        left join event_changes on changed.user_id = event_changes.user_id
    ),

    selected_users as (
        select user_id
        from changed_users as changed
        where
            changed.event_count > 0
            or exists (
                select 1 from resolved_identifies
                where
                    resolved_identifies.resolved_user_id = changed.user_id
                    and not resolved_identifies.is_excluded
            )
            or exists (
                select 1 from user_ids_merged
                where
                    user_ids_merged.canonical_user_id = changed.user_id
                    and not user_ids_merged.is_excluded
            )
            or exists (
                select 1 from segment_users_resolved
                where
                    segment_users_resolved.user_id = changed.user_id
                    and not segment_users_resolved.is_excluded
            )
    ),
{%- else %}

    selected_users as (
        select resolved_user_id as user_id
        from events
        where resolved_user_id is not null
        union
        select resolved_user_id as user_id
        from resolved_identifies
        where resolved_user_id is not null and not is_excluded
        union
        select canonical_user_id as user_id
        from user_ids_merged
        where not is_excluded
        union
        select user_id
        from segment_users_resolved
        where not is_excluded
    ),
{%- endif %}

merged_ids as (
    select
        canonical_user_id as user_id,
        array_agg(user_id order by user_id) as merged_user_ids
    from user_ids_merged
    where user_id != canonical_user_id and not is_anonymous_id
    group by canonical_user_id
),

{%- if change_driven_is_incremental() %}

    -- Counts by difference; the first (last) event too, unless the log removed an
    -- event at or before (after) the stored one: then the (person_id, occurred_at)
    -- index gives it
    activity as (
        select
            changed.user_id,
            changed.event_count,
            {%- for bound, agg, widen, beyond in [
                ("first", "min", "least", ">"),
                ("last", "max", "greatest", "<"),
            ] %}
                case
                    when
                        coalesce(
                            changed.removed_{{ bound }} {{ beyond }} changed.stored_{{ bound }}_seen_at,
                            true
                        )
                        and changed.stored_{{ bound }}_seen_at is not null
                        then {{ widen }}(
                            changed.stored_{{ bound }}_seen_at, changed.added_{{ bound }}
                        )
                    else (
                        select {{ agg }}(person_events.occurred_at)
                        from events as person_events
                        where
                            person_events.person_id = changed.user_id
                            and person_events.resolved_user_id is not null
                    )
                end as {{ bound }}_seen_at{{ "," if not loop.last }}
            {%- endfor %}
        from changed_users as changed
        inner join selected_users on changed.user_id = selected_users.user_id
    ),
{%- else %}

    activity as (
        select
            events.resolved_user_id as user_id,
            count(*) as event_count,
            min(events.occurred_at) as first_seen_at,
            max(events.occurred_at) as last_seen_at
        from events
        inner join selected_users on events.person_id = selected_users.user_id
        where events.resolved_user_id is not null
        group by events.resolved_user_id
    ),
{%- endif %}

session_counts as (
    select
        sessions.resolved_user_id as user_id,
        count(*) as session_count
    from sessions
    inner join selected_users on sessions.person_id = selected_users.user_id
    where sessions.resolved_user_id is not null
    group by sessions.resolved_user_id
),

first_touches as (
    -- the channel of the person's first session (sessions' channel_rules)
    select
        sessions.person_id as user_id,
        sessions.channel as first_touch_channel
    from sessions
    inner join selected_users on sessions.person_id = selected_users.user_id
    where sessions.session_number = 1
),

latest_traits as (
    select
        resolved_identifies.resolved_user_id as user_id,
        {%- for trait in traits %}
            (
                array_agg(
                    resolved_identifies.{{ segment_quote_identifier(trait) }}
                    order by
                        resolved_identifies.occurred_at desc,
                        resolved_identifies.message_id desc
                )
                filter (
                    where resolved_identifies.{{ segment_quote_identifier(trait) }}
                    is not null
                )
            )[1] as {{ segment_quote_identifier(
                "trait_" ~ trait if trait in own_columns else trait
            ) }},
        {%- endfor %}
        count(*) as identify_count
    from resolved_identifies
    inner join selected_users
        on resolved_identifies.resolved_user_id = selected_users.user_id
    where not resolved_identifies.is_excluded
    group by resolved_identifies.resolved_user_id
),

joined as (
    select
        selected_users.user_id,
        coalesce(merged_ids.merged_user_ids, array[]::text[]) as merged_user_ids,
        {%- for trait in traits %}
            latest_traits.{{ segment_quote_identifier(
                "trait_" ~ trait if trait in own_columns else trait
            ) }},
        {%- endfor %}
        coalesce(activity.event_count, 0) as event_count,
        coalesce(session_counts.session_count, 0) as session_count,
        coalesce(latest_traits.identify_count, 0) as identify_count,
        activity.first_seen_at,
        activity.last_seen_at,
        first_touches.first_touch_channel
    from selected_users
    left join merged_ids on selected_users.user_id = merged_ids.user_id
    left join activity on selected_users.user_id = activity.user_id
    left join session_counts on selected_users.user_id = session_counts.user_id
    left join first_touches on selected_users.user_id = first_touches.user_id
    left join latest_traits on selected_users.user_id = latest_traits.user_id
)

select * from joined
