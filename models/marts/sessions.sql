{{
    config(
        materialized="change_driven",
        recompute_by=["person_id"],
        recompute_from="started_at",
        changed_keys=[{"macro": "sessions_changed_keys"}],
        change_logs=["int_events"],
        channel_rules=True,
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
    are numbered after them. Each session's channel follows GA4's default channel
    group (traffic_channel()) with the referrer lists of seeds/referrer_domains.csv;
    editing that file or var internal_domains rebuilds the table (channel_rules).
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

referrer_domains as (
    select
        lower(trim(seed.domain)) as site_domain,
        lower(trim(seed.category)) as category
    from {{ ref("referrer_domains") }} as seed
),

hosted as (
    select
        numbered.*,
        {{ segment_url_host("numbered.referrer") }} as referrer_host,
        coalesce(
            nullif(trim(numbered.utm_source), ''),
            nullif(trim(numbered.utm_medium), ''),
            nullif(trim(numbered.utm_campaign), '')
        ) is not null as has_campaign
    from numbered
),

sourced as (
    -- where GA4 reads a session's source from: its first event's utm fields when
    -- any is set, else its referrer's host, unless that is internal
    select
        hosted.*,
        case
            when hosted.has_campaign
                then nullif(lower(trim(hosted.utm_source)), '')
            when not {{ segment_host_matches(
                "hosted.referrer_host", segment_settings().internal_domains
            ) }}
                then hosted.referrer_host
        end as channel_source,
        nullif(lower(trim(hosted.utm_medium)), '') as channel_medium,
        nullif(lower(trim(hosted.utm_campaign)), '') as channel_campaign
    from hosted
),

sources as (
    select distinct channel_source
    from sourced
    where channel_source is not null
),

source_matches as (
    -- the seed's rows each source matches (equal, or a subdomain), with the
    -- length of its longest matching domain
    select
        sources.channel_source,
        referrer_domains.category,
        length(referrer_domains.site_domain) as matched_length,
        max(length(referrer_domains.site_domain)) over (
            partition by sources.channel_source
        ) as longest_length
    from sources
    inner join referrer_domains
        on
            sources.channel_source = referrer_domains.site_domain
            or right(sources.channel_source, length(referrer_domains.site_domain) + 1)
            = '.' || referrer_domains.site_domain
),

source_categories as (
    -- only the longest matching domain counts: mail.google.com is email
    select
        channel_source,
        bool_or(category = 'search') as is_search,
        bool_or(category = 'social') as is_social,
        bool_or(category = 'video') as is_video,
        bool_or(category = 'shopping') as is_shopping,
        bool_or(category = 'email') as is_email
    from source_matches
    where matched_length = longest_length
    group by channel_source
),

categorized as (
    select
        sourced.*,
        coalesce(source_categories.is_search, false) as is_search,
        coalesce(source_categories.is_social, false) as is_social,
        coalesce(source_categories.is_video, false) as is_video,
        coalesce(source_categories.is_shopping, false) as is_shopping,
        coalesce(source_categories.is_email, false) as is_email
    from sourced
    left join source_categories
        on sourced.channel_source = source_categories.channel_source
),

channelled as (
    select
        categorized.*,
        {{ traffic_channel("categorized") }} as channel
    from categorized
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
        channel,
        session_number,
        duration_seconds,
        event_count,
        page_view_count,
        session_date,
        started_at,
        ended_at
    from channelled
)

select * from final_columns
