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
-- depends_on: {{ source("segment", "tracks") }}

{%- set columns = [
    "event_id",
    "source_schema",
    "anonymous_id",
    "user_id",
    {
        "name": "event_name",
        "from": "event",
        "sql": "case when source_table = 'tracks' then event else source_table end",
    },
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
    "occurred_at",
    "event_timestamp",
    "sent_at",
    "original_timestamp",
    "received_at",
    "loaded_at",
    "staged_at",
] %}

{#- Once per run that builds staging: the tables no staging model reads, and why. -#}
{%- do segment_log_ignored_tables(segment_classified_catalog()) %}

{{ segment_staging_select(
    segment_relations("tracks") + segment_relations("event_tables"),
    columns,
    key="event_id",
    device_key=true,
) }}
