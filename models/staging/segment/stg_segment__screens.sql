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
-- depends_on: {{ source("segment", "screens") }}

{%- set columns = [
    "event_id",
    "source_schema",
    "anonymous_id",
    "user_id",
    ["name", "text", "screen_name"],
    ["context_app_name", "text"],
    ["context_app_version", "text"],
    ["context_device_type", "text"],
    ["context_device_model", "text"],
    ["context_os_name", "text"],
    ["context_os_version", "text"],
    ["context_ip", "text"],
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
    segment_relations("screens"), columns, key="event_id", device_key=true
) }}
