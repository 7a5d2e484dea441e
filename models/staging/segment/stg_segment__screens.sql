{{
    config(
        materialized="incremental",
        incremental_strategy="append",
        on_schema_change="sync_all_columns",
        indexes=[
            {"columns": ["source_schema", "event_id"], "unique": True},
            {"columns": ["source_schema", "loaded_at"]},
            {"columns": ["staged_at"]},
            {"columns": ["device_key", "occurred_at"]},
            {"columns": ["user_id"]},
        ],
        post_hook="analyze {{ this }}",
    )
}}

-- depends_on: {{ source("segment", "screens") }}

{%- set columns = segment_envelope_columns() + [
    ["name", "text"],
    ["context_app_name", "text"],
    ["context_app_version", "text"],
    ["context_device_type", "text"],
    ["context_device_model", "text"],
    ["context_os_name", "text"],
    ["context_os_version", "text"],
    ["context_ip", "text"],
    ["context_library_name", "text"],
] %}
{%- set properties = {"alias": "properties", "exclude": []} %}
{%- set relations = segment_relations("screens") %}
{%- set watermarks = segment_load_watermarks() %}

with

source as (
    {{- segment_union_relations(relations, columns, properties, watermarks) }}
),

renamed as (
    select
        id as event_id,
        source_schema,
        {{ segment_clean_id("anonymous_id") }} as anonymous_id,
        {{ segment_clean_id("user_id") }} as user_id,
        name as screen_name,
        context_app_name,
        context_app_version,
        context_device_type,
        context_device_model,
        context_os_name,
        context_os_version,
        context_ip,
        context_library_name,
        properties,
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
        anonymous_id asc,
        user_id asc,
        event_timestamp asc,
        sent_at asc,
        original_timestamp asc,
        screen_name asc,
        context_app_name asc,
        context_app_version asc,
        context_device_type asc,
        context_device_model asc,
        context_os_name asc,
        context_os_version asc,
        context_ip asc,
        context_library_name asc,
        properties asc
),

with_device_key as (
    select
        *,
        coalesce(anonymous_id, 'user:' || user_id) as device_key
    from deduplicated
)

select * from with_device_key
