{{
    config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key=["source_schema", "event_name", "property_name"],
        indexes=[
            {
                "columns": ["source_schema", "event_name", "property_name"],
                "unique": True,
            },
        ],
        post_hook=["{{ run_state_record() }}"],
    )
}}

{#-
    How many staged calls of each event carry a value (not null) in each property
    column, and when the first and last of them were received: the numerators of
    event_properties. Counts only grow and first/last only move outwards, so an
    incremental run folds the calls staged since its last run into the stored rows.
-#}
{%- set since = event_property_since() %}
{%- set additive = is_incremental() and "infinity" not in since %}

with

new_values as (
    select
        staged.source_schema,
        staged.event_name,
        property.key as property_name,
        count(*) as value_count,
        min(staged.received_at) as first_seen_at,
        max(staged.received_at) as last_seen_at
    from ({{ event_property_rows(since) }}) as staged
    cross join lateral jsonb_object_keys(staged.properties) as property (key)
    group by staged.source_schema, staged.event_name, property.key
),

touched as (
    select
        source_schema,
        event_name,
        property_name,
        value_count,
        first_seen_at,
        last_seen_at
    from new_values
    {%- if additive %}
        union all
        select
            stored.source_schema,
            stored.event_name,
            stored.property_name,
            stored.value_count,
            stored.first_seen_at,
            stored.last_seen_at
        from {{ this }} as stored
        inner join new_values
            on
                stored.source_schema = new_values.source_schema
                and stored.event_name = new_values.event_name
                and stored.property_name = new_values.property_name
    {%- endif %}
)

select
    source_schema,
    event_name,
    property_name,
    sum(value_count)::bigint as value_count,
    min(first_seen_at) as first_seen_at,
    max(last_seen_at) as last_seen_at
from touched
group by source_schema, event_name, property_name
