{#-
    What the events sent differ from the tracking plan (seeds/tracking_plan.csv),
    one row per finding (README, "Data quality"). Read from the catalog marts, so
    it costs a few thousand rows whatever the warehouse's size. An empty plan has
    no findings.
-#}
{%- set plan = ref("tracking_plan") %}
{%- set type_rows = [] %}
{%- if execute %}
    {%- set query %}
        select distinct data_type from {{ plan }}
        where data_type is not null
        order by data_type
    {%- endset %}
    {%- for data_type in run_query(query).columns[0].values() %}
        {%- do type_rows.append(
            "(" ~ segment_string_literal(data_type) ~ ", "
            ~ segment_string_literal(
                segment_normalize_type(segment_base_type(data_type))
            ) ~ ")"
        ) %}
    {%- endfor %}
{%- endif %}

with

plan as (
    select
        event_name,
        property_name,
        data_type,
        is_required
    from {{ plan }}
),

planned_events as (
    select distinct event_name from plan
),

-- The plan's types spelled as event_properties.base_type spells the catalog's.
plan_types as (
    {{ segment_values(
        type_rows, [["data_type", "text"], ["base_type", "text"]], "spellings"
    ) }}
),

planned_properties as (
    select
        plan.event_name,
        plan.property_name,
        plan.data_type,
        plan_types.base_type,
        coalesce(plan.is_required, false) as is_required
    from plan
    left join plan_types on plan.data_type = plan_types.data_type
    where plan.property_name is not null
),

catalog as (
    select * from {{ ref("event_catalog") }}
),

properties as (
    select * from {{ ref("event_properties") }}
),

event_rows as (
    select * from {{ ref("int_event_rows") }}
),

latest_day as (
    select max((last_seen_at at time zone 'UTC')::date) as latest_date
    from catalog
),

unplanned_events as (
    select
        'unplanned_event' as finding,
        catalog.source_schema,
        catalog.event_name,
        null::text as property_name,
        catalog.event_count,
        null::numeric as missing_share,
        catalog.last_seen_at,
        'not in the tracking plan' as detail
    from catalog
    -- an empty plan has no findings
    where
        exists (select from planned_events)
        and not exists (
            select from planned_events
            where planned_events.event_name = catalog.event_name
        )
),

missing_events as (
    select
        'planned_event_missing' as finding,
        null::text as source_schema,
        planned_events.event_name,
        null::text as property_name,
        coalesce(sum(catalog.event_count), 0)::bigint as event_count,
        null::numeric as missing_share,
        max(catalog.last_seen_at) as last_seen_at,
        case
            when max(catalog.last_seen_at) is null then 'never sent'
            else 'not sent in the 28 days up to the latest event day'
        end as detail
    from planned_events
    left join catalog on planned_events.event_name = catalog.event_name
    cross join latest_day
    group by planned_events.event_name, latest_day.latest_date
    having
        max(catalog.last_seen_at) is null
        or (max(catalog.last_seen_at) at time zone 'UTC')::date
        <= latest_day.latest_date - 28
),

-- The planned properties of each event a source sends, with what it carries.
sent_properties as (
    select
        catalog.source_schema,
        catalog.event_name,
        catalog.last_seen_at as event_last_seen_at,
        planned_properties.property_name,
        planned_properties.base_type as planned_type,
        planned_properties.data_type as planned_data_type,
        planned_properties.is_required,
        properties.data_type,
        properties.base_type,
        properties.last_seen_at,
        coalesce(event_rows.row_count, 0) as row_count,
        coalesce(properties.value_count, 0) as value_count
    from catalog
    inner join planned_properties on catalog.event_name = planned_properties.event_name
    left join event_rows
        on
            catalog.source_schema = event_rows.source_schema
            and catalog.event_name = event_rows.event_name
    left join properties
        on
            catalog.source_schema = properties.source_schema
            and catalog.event_name = properties.event_name
            and planned_properties.property_name = properties.property_name
),

missing_properties as (
    select
        'missing_required_property' as finding,
        source_schema,
        event_name,
        property_name,
        (row_count - value_count)::bigint as event_count,
        round((row_count - value_count)::numeric / row_count, 4) as missing_share,
        event_last_seen_at as last_seen_at,
        'required, null or absent in '
        || (row_count - value_count) || ' of ' || row_count || ' events' as detail
    from sent_properties
    where is_required and row_count > value_count
),

mistyped_properties as (
    select
        'type_mismatch' as finding,
        source_schema,
        event_name,
        property_name,
        value_count as event_count,
        null::numeric as missing_share,
        last_seen_at,
        'planned ' || planned_data_type || ', stored as ' || data_type as detail
    from sent_properties
    where value_count > 0 and base_type != planned_type
),

unplanned_properties as (
    select
        'unplanned_property' as finding,
        properties.source_schema,
        properties.event_name,
        properties.property_name,
        properties.value_count as event_count,
        null::numeric as missing_share,
        properties.last_seen_at,
        'not in the tracking plan for this event' as detail
    from properties
    inner join planned_events on properties.event_name = planned_events.event_name
    where not exists (
        select from planned_properties
        where
            planned_properties.event_name = properties.event_name
            and planned_properties.property_name = properties.property_name
    )
)

select * from unplanned_events
union all
select * from missing_events
union all
select * from missing_properties
union all
select * from mistyped_properties
union all
select * from unplanned_properties
