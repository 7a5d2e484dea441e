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
        post_hook="{{ analyze_if_stale() }}",
    )
}}

-- The raw tables are found in each source schema while the model runs
-- (segment_relations()), so dbt cannot see this edge to the source:
-- depends_on: {{ source("segment", "pages") }}

{%- set columns = [
    "event_id",
    "source_schema",
    "anonymous_id",
    "user_id",
    ["name", "text", "page_name"],
    ["url", "text", "page_url"],
    ["path", "text", "page_path"],
    ["referrer", "text", "page_referrer"],
    ["title", "text", "page_title"],
    ["search", "text", "page_search"],
    ["context_campaign_source", "text"],
    ["context_campaign_medium", "text"],
    ["context_campaign_name", "text"],
    ["context_campaign_term", "text"],
    ["context_campaign_content", "text"],
    ["context_ip", "text"],
    ["context_user_agent", "text"],
    ["context_library_name", "text"],
    {"name": "properties", "other_columns": "jsonb"},
    "occurred_at",
    "event_timestamp",
    "sent_at",
    "original_timestamp",
    "received_at",
    "loaded_at",
    "staged_at",
] %}

{{ segment_staging_select(
    segment_relations("pages"), columns, key="event_id", device_key=true
) }}
