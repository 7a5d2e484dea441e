{{
    config(
        materialized="change_driven",
        recompute_by=["person_id"],
        recompute_from="started_at",
        changed_keys=[{"macro": "sessions_changed_keys"}],
        change_logs=["int_events"],
        indexes=[
            {"columns": ["session_id"], "unique": True},
            {"columns": ["person_id", "started_at"]},
            {"columns": ["started_at"]},
        ],
    )
}}

{#-
    Sessions (README, "For analysts", sessions) summarised from int_events, which
    assigns each event its session. An incremental run rebuilds, for each person
    of a session that holds an event in int_events' change log (the person it had
    and the persons of its events now), the person's sessions that start at or
    after the earliest such session's start (sessions_changed_keys()); sessions
    that began earlier are unchanged and keep their numbers, and the rebuilt ones
    are numbered after them.
-#}
{%- set incremental = change_driven_is_incremental() %}

with

events as not materialized (
    select * from {{ ref("int_events") }}
),

{%- if incremental %}

    changed_persons as (
        select
            person_id,
            recompute_from
        from {{ changed_keys_relation() }}
    ),
{%- endif %}

sessions_kept as (
    {%- if incremental %}
        -- the number of the person's last session kept: stored sessions are
        -- numbered 1, 2, ... in (started_at, session_id) order, so it is their
        -- count, read from one (person_id, started_at) index entry, not counted
        select
            changed_persons.person_id,
            last_kept.session_number as sessions_before
        from changed_persons
        cross join lateral (
            select stored.session_number
            from {{ this }} as stored
            where
                stored.person_id = changed_persons.person_id
                and stored.started_at < changed_persons.recompute_from
            order by stored.started_at desc, stored.session_number desc
            limit 1
        ) as last_kept
    {%- else %}
        select
            null::text as person_id,
            0::bigint as sessions_before
        where false
    {%- endif %}
),

{%- if incremental %}

    candidate_sessions as (
        select distinct changed_events.session_id
        from changed_persons
        inner join events as changed_events
            on
                changed_persons.person_id = changed_events.person_id
                and changed_persons.recompute_from <= changed_events.occurred_at
        where changed_events.session_id is not null
    ),

    session_events as (
        -- one session_id index lookup per candidate session: offset 0 keeps the
        -- planner from flattening the lateral into a join that reads the whole
        -- session_id index of int_events
        select session_rows.*
        from candidate_sessions
        inner join lateral (
            select events.* from events
            where events.session_id = candidate_sessions.session_id
            offset 0
        ) as session_rows on true
    ),
{%- else %}

    session_events as (
        select * from events
        where session_id is not null
    ),
{%- endif %}

ordered_events as (
    select
        *,
        row_number() over session_order as position_in_session,
        count(*) filter (where event_type = 'page') over session_order as page_number,
        count(*) filter (where event_type = 'page') over whole_session
            as page_view_count,
        count(resolved_user_id) over session_order as resolved_number,
        count(resolved_user_id) over whole_session as resolved_count
    from session_events
    window
        session_order as (
            partition by session_id
            order by occurred_at asc, event_id asc
            rows between unbounded preceding and current row
        ),
        whole_session as (partition by session_id)
),

summarised as (
    select
        session_id,
        min(device_key) as device_key,
        -- the latest resolved user id, the first event's ids and attribution
        max(resolved_user_id) filter (
            where resolved_user_id is not null and resolved_number = resolved_count
        ) as resolved_user_id,
        max(anonymous_id) filter (where position_in_session = 1) as anonymous_id,
        max(source_schema) filter (where position_in_session = 1) as source_schema,
        max(page_path) filter (
            where event_type = 'page' and page_number = 1
        ) as landing_page_path,
        max(page_path) filter (
            where event_type = 'page' and page_number = page_view_count
        ) as exit_page_path,
        max(referrer) filter (where position_in_session = 1) as referrer,
        max(utm_source) filter (where position_in_session = 1) as utm_source,
        max(utm_medium) filter (where position_in_session = 1) as utm_medium,
        max(utm_campaign) filter (where position_in_session = 1) as utm_campaign,
        count(*) as event_count,
        max(page_view_count) as page_view_count,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at
    from ordered_events
    group by session_id
),

with_person as (
    select
        *,
        coalesce(resolved_user_id, anonymous_id) as person_id
    from summarised
),

rebuilt as (
    select
        with_person.*,
        coalesce(sessions_kept.sessions_before, 0) as sessions_before
    from with_person
    left join sessions_kept on with_person.person_id = sessions_kept.person_id
    {%- if incremental %}
        where exists (
            select 1 from changed_persons
            where
                changed_persons.person_id = with_person.person_id
                and changed_persons.recompute_from <= with_person.started_at
        )
    {%- endif %}
),

numbered as (
    select
        *,
        sessions_before + row_number() over (
            partition by person_id order by started_at asc, session_id asc
        ) as session_number,
        extract(epoch from ended_at - started_at)::bigint as duration_seconds,
        (started_at at time zone 'UTC')::date as session_date
    from rebuilt
),

final_columns as (
    select
        session_id,
        person_id,
        resolved_user_id,
        anonymous_id,
        device_key,
        source_schema,
        landing_page_path,
        exit_page_path,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        session_number,
        duration_seconds,
        event_count,
        page_view_count,
        session_date,
        started_at,
        ended_at
    from numbered
)

select * from final_columns
