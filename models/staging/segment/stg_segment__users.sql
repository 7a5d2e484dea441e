{{
    config(
        materialized="table",
        indexes=[{"columns": ["source_schema", "user_id"], "unique": True}],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

-- The raw tables are found in each source schema while the model runs
-- (segment_relations()), so dbt cannot see this edge to the source:
-- depends_on: {{ source("segment", "users") }}

{#- Segment's current state of each user: every other column is a trait. -#}
{%- set columns = [
    {"name": "user_id", "from": "id", "identity": true},
    "source_schema",
    {"other_columns": "columns"},
    "received_at",
    "loaded_at",
] %}

{{ segment_staging_select(
    segment_relations("users"), columns, key="user_id", keep="latest"
) }}
