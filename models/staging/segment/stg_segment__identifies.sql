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

-- depends_on: {{ source("segment", "identifies") }}

{%- set envelope = segment_envelope_columns() %}
{%- set relations = segment_relations("identifies") %}
{%- set traits = segment_extra_columns(
    relations,
    exclude=envelope | map(attribute=0) | list,
    reserved=[
        "message_id", "anonymous_id", "user_id", "occurred_at", "event_timestamp",
        "sent_at", "original_timestamp", "received_at", "loaded_at", "staged_at",
    ],
) %}
{%- set watermarks = segment_load_watermarks() %}

with

source as (
    {{- segment_union_relations(relations, envelope + traits, watermarks=watermarks) }}
),

renamed as (
    select
        id as message_id,
        source_schema,
        {{ segment_clean_id("anonymous_id") }} as anonymous_id,
        {{ segment_clean_id("user_id") }} as user_id,
        {%- for trait in segment_column_aliases(traits) %}
            {{ trait }},
        {%- endfor %}
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
        {%- for trait in segment_column_aliases(traits, sortable_only=true) %}
            {{ trait }} asc,
        {%- endfor %}
        anonymous_id asc,
        user_id asc,
        event_timestamp asc,
        sent_at asc,
        original_timestamp asc
)

select * from deduplicated
