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
        post_hook="analyze {{ this }}",
    )
}}

-- depends_on: {{ source("segment", "aliases") }}

{%- set columns = segment_envelope_columns() + [["previous_id", "text"]] %}
{%- set relations = segment_relations("aliases") %}
{%- set watermarks = segment_load_watermarks() %}

with

source as (
    {{- segment_union_relations(relations, columns, watermarks=watermarks) }}
),

renamed as (
    select
        id as message_id,
        source_schema,
        {{ segment_clean_id("anonymous_id") }} as anonymous_id,
        {{ segment_clean_id("previous_id") }} as previous_id,
        {{ segment_clean_id("user_id") }} as user_id,
        {{ segment_occurred_at() }} as occurred_at,
        "timestamp" as event_timestamp,
        sent_at,
        original_timestamp,
        received_at,
        uuid_ts as loaded_at,
        {{ segment_staged_at() }} as staged_at
    from source
),

deduplicated as (
    select distinct on (source_schema, message_id) *
    from renamed
    {%- if is_incremental() %}
        where not exists (
            select 1
            from {{ this }} as already_staged
            where
                renamed.source_schema = already_staged.source_schema
                and renamed.message_id = already_staged.message_id
        )
    {%- endif %}
    order by
        source_schema asc,
        message_id asc,
        loaded_at asc,
        received_at asc,
        -- then every other column: a deterministic pick among same-load copies
        anonymous_id asc,
        previous_id asc,
        user_id asc,
        event_timestamp asc,
        sent_at asc,
        original_timestamp asc
)

select * from deduplicated
