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
        post_hook="analyze {{ this }}",
    )
}}

{%- set columns = [
    ["id", "text"],
    ["received_at", "timestamptz"],
    ["uuid_ts", "timestamptz"],
] %}
{%- set properties = {
    "alias": "properties",
    "exclude": (segment_envelope_columns() | map(attribute=0) | list)
        + ["event", "event_text"],
} %}
{%- set relations = segment_relations("event_tables") %}
{%- set watermarks = segment_load_watermarks() %}

with

source as (
    {{- segment_union_relations(relations, columns, properties, watermarks) }}
),

renamed as (
    select
        id as event_id,
        source_schema,
        source_table as event_name,
        properties,
        received_at,
        uuid_ts as loaded_at,
        {{ segment_staged_at() }} as staged_at
    from source
),

deduplicated as (
    select distinct on (source_schema, event_id) *
    from renamed
    {%- if is_incremental() %}
        where not exists (
            select 1
            from {{ this }} as already_staged
            where
                renamed.source_schema = already_staged.source_schema
                and renamed.event_id = already_staged.event_id
        )
    {%- endif %}
    order by
        source_schema asc,
        event_id asc,
        loaded_at asc,
        received_at asc,
        -- then every other column: a deterministic pick among same-load copies
        event_name asc,
        properties asc
)

select * from deduplicated
