{{
    config(
        materialized="change_driven",
        recompute_by=["device_key"],
        recompute_from="occurred_at",
        changed_keys=[{"macro": "changed_devices"}],
        unique_key=["device_key", "occurred_at", "source_schema", "event_id"],
        log_columns=[
            "source_schema", "event_id", "person_id", "resolved_user_id",
            "device_key", "session_id", "activity_date", "event_name", "occurred_at",
        ],
        indexes=[
            {"columns": ["device_key", "occurred_at"]},
            {"columns": ["person_id", "occurred_at"]},
            {"columns": ["session_id"]},
            {"columns": ["activity_date"]},
            {"columns": [
                "event_name", "activity_date", "source_schema", "occurred_at",
            ]},
        ],
    )
}}

{#-
    Every unique track, page and screen call with its identity and session: the
    sessionization of the README's "Sessions" rules, read by the events mart. An
    incremental run recomputes the events of each changed device from its
    recompute_from (changed_devices(): always a session start, so sessionizing from
    it gives what a full build gives), and adds new calls that carry no id at all
    (they belong to no device or session), unless a rebuilt staging model staged a
    stored one again. A recomputed event that comes out as
    stored (most of a session that a new call extends) is left in place, so the
    change log holds only the events that changed, and tells the per-person,
    per-day and per-session models which persons, days, events and sessions did.
    The (event_name, activity_date, ...) index covers int_source_event_days'
    recount of a day's events: an index-only scan, which reads only the table
    pages written since the last vacuum.
    Its unique_key leads with the device and time, so that comparing recomputed
    events with stored ones reads the (device_key, occurred_at) index the delete
    reads; an index on the event id alone would cost a random read per event.
-#}
{%- set since = run_state_since() %}
{%- set timeout = var("session_timeout_minutes") | int %}
{%- set incremental = change_driven_is_incremental() %}

with

tracks as not materialized (
    select * from {{ ref("stg_segment__tracks") }}
),

track_properties as not materialized (
    select * from {{ ref("stg_segment__track_properties") }}
),

pages as not materialized (
    select * from {{ ref("stg_segment__pages") }}
),

screens as not materialized (
    select * from {{ ref("stg_segment__screens") }}
),

-- The changed keys come from int_device_changes through the materialization
-- (changed_devices()), not through this select, so dbt cannot see that edge:
-- depends_on: {{ ref("int_device_changes") }}

{%- if incremental %}
    {%- set parts = ["changed", "idless"] %}

    changed_devices as (
        select * from {{ changed_keys_relation() }}
    ),
{%- else %}
    {%- set parts = ["all"] %}
{%- endif %}

calls as (
    {%- for kind in ["track", "page", "screen"] %}
        {%- set relation = kind ~ "s" %}
        {%- set last_kind = loop.last %}
        {%- for part in parts %}
            select
                {{ relation }}.event_id,
                {{ relation }}.source_schema,
                '{{ kind }}' as event_type,
                {%- if kind == "track" %}
                    coalesce(track_properties.event_name, tracks.event_name)
                        as event_name,
                    tracks.event_text,
                    tracks.context_page_url as page_url,
                    tracks.context_page_path as page_path,
                    tracks.context_page_referrer as referrer,
                    tracks.context_campaign_source as utm_source,
                    tracks.context_campaign_medium as utm_medium,
                    tracks.context_campaign_name as utm_campaign,
                    coalesce(track_properties.properties, '{}'::jsonb) as properties,
                {%- elif kind == "page" %}
                    'page_view' as event_name,
                    pages.page_name as event_text,
                    pages.page_url,
                    pages.page_path,
                    pages.page_referrer as referrer,
                    pages.context_campaign_source as utm_source,
                    pages.context_campaign_medium as utm_medium,
                    pages.context_campaign_name as utm_campaign,
                    pages.properties,
                {%- else %}
                    'screen_view' as event_name,
                    screens.screen_name as event_text,
                    null::text as page_url,
                    null::text as page_path,
                    null::text as referrer,
                    null::text as utm_source,
                    null::text as utm_medium,
                    null::text as utm_campaign,
                    screens.properties,
                {%- endif %}
                {{ relation }}.anonymous_id,
                {{ relation }}.user_id,
                {{ relation }}.device_key,
                {{ relation }}.occurred_at,
                {{ relation }}.received_at,
                {{ relation }}.loaded_at
            from
                {%- if part == "changed" %}
                    changed_devices
                -- an index range of (device_key, occurred_at) per changed device
                inner join {{ relation }}
                    on
                        changed_devices.device_key = {{ relation }}.device_key
                        and changed_devices.recompute_from <= {{ relation }}.occurred_at
                {%- else %}
                    {{ relation }}
                {%- endif %}
            {%- if kind == "track" and part == "all" %}
            left join track_properties
                on
                    tracks.source_schema = track_properties.source_schema
                    and tracks.event_id = track_properties.event_id
            {%- elif kind == "track" %}
            -- one unique-index lookup per call: the planner, misjudging how many
            -- calls a changed device has, would otherwise hash all of them
            left join lateral (
                select
                    own_properties.event_name,
                    own_properties.properties
                from track_properties as own_properties
                where
                    tracks.source_schema = own_properties.source_schema
                    and tracks.event_id = own_properties.event_id
                offset 0
            ) as track_properties on true
            {%- endif %}
            {%- if part == "idless" %}
                where
                    {{ relation }}.device_key is null
                    and {{ relation }}.staged_at > {{ since }}
                    {%- if this is not none %}
                    -- staged again (a rebuilt staging model): stored already
                    and not exists (
                        select from {{ this }} as stored
                        where
                            stored.device_key is null
                            and stored.occurred_at = {{ relation }}.occurred_at
                            and stored.source_schema = {{ relation }}.source_schema
                            and stored.event_id = {{ relation }}.event_id
                    )
                    {%- endif %}
            {%- endif %}
            {{ "union all" if not (loop.last and last_kind) }}
        {%- endfor %}
    {%- endfor %}
),

resolved as (
    {{ resolve_identity("calls") }}
),

included as (
    select
        *,
        coalesce(resolved_user_id, anonymous_id) as person_id
    from resolved
    where not is_excluded
),

gaps as (
    select
        *,
        coalesce(
            occurred_at - lag(occurred_at) over device_timeline
            > interval '{{ timeout }} minutes',
            true
        ) as is_session_start
    from included
    window device_timeline as (
        partition by device_key
        order by occurred_at asc, event_id asc, source_schema asc
    )
),

session_starts as (
    -- the latest session start so far on the device, found in the same sort: start
    -- keys begin with their fixed-width time, so the greatest is the latest one
    select
        *,
        max(
            case
                when is_session_start
                    then
                        to_char(occurred_at at time zone 'UTC', 'YYYYMMDDHH24MISSUS')
                        || '|'
                        || source_schema
                        || '|'
                        || event_id
            end
        ) over device_timeline as session_start_key
    from gaps
    window device_timeline as (
        partition by device_key
        order by occurred_at asc, event_id asc, source_schema asc
        rows between unbounded preceding and current row
    )
),

sessionized as (
    select
        event_id,
        source_schema,
        event_type,
        event_name,
        event_text,
        anonymous_id,
        user_id,
        resolved_user_id,
        person_id,
        device_key,
        page_url,
        page_path,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        properties,
        occurred_at,
        received_at,
        loaded_at,
        -- md5(device key | first event's source schema | first event's id)
        case
            when device_key is not null
                then md5(device_key || '|' || substr(session_start_key, 22))
        end as session_id,
        (occurred_at at time zone 'UTC')::date as activity_date
    from session_starts
),

final_columns as (
    select
        event_id,
        source_schema,
        event_type,
        event_name,
        event_text,
        anonymous_id,
        user_id,
        resolved_user_id,
        person_id,
        device_key,
        session_id,
        page_url,
        page_path,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        properties,
        activity_date,
        occurred_at,
        received_at,
        loaded_at
    from sessionized
)

select * from final_columns
