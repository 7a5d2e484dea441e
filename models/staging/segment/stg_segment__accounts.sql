{{
    config(
        materialized="table",
        indexes=[{"columns": ["source_schema", "account_id"], "unique": True}],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

-- The raw tables are found in each source schema while the model runs
-- (segment_relations()), so dbt cannot see this edge to the source:
-- depends_on: {{ source("segment", "accounts") }}

{#- Segment's current state of each account: every other column is a trait. -#}
{%- set columns = [
    {"name": "account_id", "from": "id", "identity": true},
    "source_schema",
    {"other_columns": "columns"},
    "received_at",
    "loaded_at",
] %}

{{ segment_staging_select(
    segment_relations("accounts"), columns, key="account_id", keep="latest"
) }}
