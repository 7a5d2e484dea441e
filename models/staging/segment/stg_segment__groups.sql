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

-- depends_on: {{ source("segment", "groups") }}

{%- set columns = segment_envelope_columns() + [["group_id", "text"]] %}
{%- set traits = {"alias": "traits", "exclude": []} %}
{%- set relations = segment_relations("groups") %}
{%- set watermarks = segment_load_watermarks() %}

with

source as (
    {{- segment_union_relations(relations, columns, traits, watermarks) }}
),

renamed as (
    select
        id as message_id,
        source_schema,
        {{ segment_clean_id("group_id") }} as group_id,
        {{ segment_clean_id("anonymous_id") }} as anonymous_id,
        {{ segment_clean_id("user_id") }} as user_id,
        traits,
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
        group_id asc,
        anonymous_id asc,
        user_id asc,
        event_timestamp asc,
        sent_at asc,
        original_timestamp asc,
        traits asc
)

select * from deduplicated
