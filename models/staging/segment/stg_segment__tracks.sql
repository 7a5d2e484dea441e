{{
    config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="sync_all_columns",
        indexes=[
            {"columns": ["source_schema", "event_id"], "unique": True},
            {"columns": ["source_schema", "loaded_at"]},
            {"columns": ["staged_at"]},
            {"columns": ["device_key", "occurred_at"]},
            {"columns": ["user_id"]},
        ],
        post_hook="analyze {{ this }}",
    )
}}

-- depends_on: {{ source("segment", "tracks") }}

{%- set columns = segment_envelope_columns() + [
    ["event", "text"],
    ["event_text", "text"],
    ["context_page_url", "text"],
    ["context_page_path", "text"],
    ["context_page_referrer", "text"],
    ["context_page_title", "text"],
    ["context_page_search", "text"],
    ["context_campaign_source", "text"],
    ["context_campaign_medium", "text"],
    ["context_campaign_name", "text"],
    ["context_campaign_term", "text"],
    ["context_campaign_content", "text"],
    ["context_ip", "text"],
    ["context_user_agent", "text"],
    ["context_library_name", "text"],
] %}
{%- set relations = segment_relations("tracks") + segment_relations("event_tables") %}
{%- set watermarks = segment_load_watermarks() %}
{#- Once per run that builds staging: the tables no staging model reads, and why. -#}
{%- do segment_log_ignored_tables(segment_classified_catalog()) %}

with

source as (
    {{- segment_union_relations(relations, columns, watermarks=watermarks) }}
),

renamed as (
    select
        id as event_id,
        source_schema,
        {{ segment_clean_id("anonymous_id") }} as anonymous_id,
        {{ segment_clean_id("user_id") }} as user_id,
        case
            when source_table = 'tracks' then event else source_table
        end as event_name,
        event_text,
        context_page_url,
        context_page_path,
        context_page_referrer,
        context_page_title,
        context_page_search,
        context_campaign_source,
        context_campaign_medium,
        context_campaign_name,
        context_campaign_term,
        context_campaign_content,
        context_ip,
        context_user_agent,
        context_library_name,
        {{ segment_occurred_at() }} as occurred_at,
        "timestamp" as event_timestamp,
        sent_at,
        original_timestamp,
        received_at,
        uuid_ts as loaded_at,
        {{ segment_staged_at() }} as staged_at
    from source
),

deduplicated as (
    select distinct on (source_schema, event_id) *
    from renamed
    {%- if is_incremental() %}
        where not exists (
            select 1
            from {{ this }} as already_staged
            where
                renamed.source_schema = already_staged.source_schema
                and renamed.event_id = already_staged.event_id
        )
    {%- endif %}
    order by
        source_schema asc,
        event_id asc,
        loaded_at asc,
        received_at asc,
        -- then every other column: a deterministic pick among same-load copies
        event_name asc,
        event_text asc,
        anonymous_id asc,
        user_id asc,
        event_timestamp asc,
        sent_at asc,
        original_timestamp asc,
        context_page_url asc,
        context_page_path asc,
        context_page_referrer asc,
        context_page_title asc,
        context_page_search asc,
        context_campaign_source asc,
        context_campaign_medium asc,
        context_campaign_name asc,
        context_campaign_term asc,
        context_campaign_content asc,
        context_ip asc,
        context_user_agent asc,
        context_library_name asc
),

with_device_key as (
    select
        *,
        coalesce(anonymous_id, 'user:' || user_id) as device_key
    from deduplicated
)

select * from with_device_key
