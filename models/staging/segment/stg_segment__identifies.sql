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
-- depends_on: {{ source("segment", "identifies") }}

{%- set columns = [
    "message_id",
    "source_schema",
    "anonymous_id",
    "user_id",
    {"other_columns": "columns"},
    "occurred_at",
    "event_timestamp",
    "sent_at",
    "original_timestamp",
    "received_at",
    "loaded_at",
    "staged_at",
] %}

{{ segment_staging_select(segment_relations("identifies"), columns, key="message_id") }}
