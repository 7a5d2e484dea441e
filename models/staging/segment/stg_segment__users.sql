{{
    config(
        materialized="table",
        indexes=[{"columns": ["source_schema", "user_id"], "unique": True}],
        post_hook="analyze {{ this }}",
    )
}}

-- depends_on: {{ source("segment", "users") }}

{%- set columns = [
    ["id", "text"],
    ["received_at", "timestamptz"],
    ["uuid_ts", "timestamptz"],
] %}
{%- set relations = segment_relations("users") %}
{%- set traits = segment_extra_columns(
    relations,
    exclude=segment_envelope_columns() | map(attribute=0) | list,
    reserved=["user_id", "loaded_at"],
) %}
{%- set order_keys = ["loaded_at desc nulls last", "received_at desc nulls last"]
    + segment_column_aliases(traits, sortable_only=true) %}

with

source as (
    {{- segment_union_relations(relations, columns + traits) }}
),

renamed as (
    select
        {{ segment_clean_id("id") }} as user_id,
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
    select distinct on (source_schema, user_id) *
    from renamed
    where user_id is not null
    order by
        source_schema asc,
        user_id asc,
        {{ order_keys | join(",\n        ") }}
)

select * from deduplicated
