{{
    config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="sync_all_columns",
        indexes=[
            {"columns": ["source_schema", "event_id"], "unique": True},
            {"columns": ["source_schema", "loaded_at"]},
            {"columns": ["staged_at"]},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- The property columns of every event table; tracks stages the calls themselves. -#}
{%- set columns = [
    "event_id",
    "source_schema",
    {"name": "event_name", "sql": "source_table"},
    {
        "name": "properties",
        "other_columns": "jsonb",
        "exclude": ["event", "event_text"],
    },
    "received_at",
    "loaded_at",
    "staged_at",
] %}

{{ segment_staging_select(segment_relations("event_tables"), columns, key="event_id") }}
