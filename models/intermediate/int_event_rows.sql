{{
    config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key=["source_schema", "event_name"],
        indexes=[{"columns": ["source_schema", "event_name"], "unique": True}],
        post_hook=["{{ run_state_record() }}"],
    )
}}

{#-
    How many staged calls of each event each source has: the denominator of
    event_properties' fill rates, over the same rows as its numerators
    (int_event_property_values). Counts only grow, so an incremental run adds the
    calls staged since its last run to the stored counts.
-#}
{%- set since = event_property_since() %}
{%- set additive = is_incremental() and "infinity" not in since %}

with

new_rows as (
    select
        source_schema,
        event_name,
        count(*) as row_count
    from ({{ event_property_rows(since) }}) as staged
    group by source_schema, event_name
),

touched as (
    select
        source_schema,
        event_name,
        row_count
    from new_rows
    {%- if additive %}
        union all
        select
            stored.source_schema,
            stored.event_name,
            stored.row_count
        from {{ this }} as stored
        inner join new_rows
            on
                stored.source_schema = new_rows.source_schema
                and stored.event_name = new_rows.event_name
    {%- endif %}
)

select
    source_schema,
    event_name,
    sum(row_count)::bigint as row_count
from touched
group by source_schema, event_name
