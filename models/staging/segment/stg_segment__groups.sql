{{
    config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="sync_all_columns",
        indexes=[
            {"columns": ["source_schema", "message_id"], "unique": True},
            {"columns": ["source_schema", "loaded_at"]},
            {"columns": ["staged_at"]},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

-- The raw tables are found in each source schema while the model runs
-- (segment_relations()), so dbt cannot see this edge to the source:
-- depends_on: {{ source("segment", "groups") }}

{%- set columns = [
    "message_id",
    "source_schema",
    {"name": "group_id", "from": "group_id", "identity": true},
    "anonymous_id",
    "user_id",
    {"name": "traits", "other_columns": "jsonb"},
    "occurred_at",
    "event_timestamp",
    "sent_at",
    "original_timestamp",
    "received_at",
    "loaded_at",
    "staged_at",
] %}

{{ segment_staging_select(segment_relations("groups"), columns, key="message_id") }}
