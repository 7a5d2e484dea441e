{{
    config(
        materialized="table",
        indexes=[{"columns": ["source_schema", "account_id"], "unique": True}],
        post_hook="analyze {{ this }}",
    )
}}

-- depends_on: {{ source("segment", "accounts") }}

{%- set columns = [
    ["id", "text"],
    ["received_at", "timestamptz"],
    ["uuid_ts", "timestamptz"],
] %}
{%- set relations = segment_relations("accounts") %}
{%- set traits = segment_extra_columns(
    relations,
    exclude=segment_envelope_columns() | map(attribute=0) | list,
    reserved=["account_id", "loaded_at"],
) %}
{%- set order_keys = ["loaded_at desc nulls last", "received_at desc nulls last"]
    + segment_column_aliases(traits, sortable_only=true) %}

with

source as (
    {{- segment_union_relations(relations, columns + traits) }}
),

renamed as (
    select
        {{ segment_clean_id("id") }} as account_id,
        source_schema,
        {%- for trait in segment_column_aliases(traits) %}
            {{ trait }},
        {%- endfor %}
        received_at,
        uuid_ts as loaded_at
    from source
),

deduplicated as (
    -- Segment updates these rows in place: keep the latest copy
    select distinct on (source_schema, account_id) *
    from renamed
    where account_id is not null
    order by
        source_schema asc,
        account_id asc,
        {{ order_keys | join(",\n        ") }}
)

select * from deduplicated
