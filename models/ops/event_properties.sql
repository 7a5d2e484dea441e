{#-
    Every property each source's events carry: its column type as the warehouse
    stores it, how often it is filled, and when it first held a value. Counted by
    int_event_property_values and int_event_rows over the staged calls; the types
    are read from the catalog on every run, so a column another tool retypes shows
    its new type at once.
-#}

with

property_values as (
    select * from {{ ref("int_event_property_values") }}
),

event_rows as (
    select * from {{ ref("int_event_rows") }}
),

column_types as (
    {{ event_property_types() }}
)

select
    property_values.source_schema,
    property_values.event_name,
    property_values.property_name,
    column_types.data_type,
    column_types.base_type,
    property_values.value_count,
    event_rows.row_count as event_count,
    property_values.first_seen_at,
    property_values.last_seen_at,
    round(property_values.value_count::numeric / event_rows.row_count, 4) as fill_rate
from property_values
inner join event_rows
    on
        property_values.source_schema = event_rows.source_schema
        and property_values.event_name = event_rows.event_name
left join column_types
    on
        property_values.source_schema = column_types.source_schema
        and property_values.event_name = column_types.event_name
        and property_values.property_name = column_types.property_name
