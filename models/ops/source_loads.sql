{{
    config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key=["source_schema", "table_name", "load_hour"],
        indexes=[
            {"columns": ["source_schema", "table_name", "load_hour"], "unique": True},
            {"columns": ["load_hour"]},
        ],
    )
}}

{#-
    What Segment loaded into each raw table in each hour (by uuid_ts, in UTC), read
    from the raw tables themselves (duplicates and all: this is what arrived, not
    what the marts keep). An incremental run recounts the hours from the latest one
    stored minus var('incremental_lookback_hours'), whole hours, so rows a sync
    commits into an hour already counted are counted on the next run; older hours
    never change.
-#}
{%- set relations = [] %}
{%- for table_name in segment_default_tables() %}
    {%- do relations.extend(segment_relations(table_name)) %}
{%- endfor %}
{%- do relations.extend(segment_relations("event_tables")) %}
{%- set bounds = {} %}
{%- for schema_name, bound in segment_load_watermarks(column="load_hour").items() %}
    {#- the bound is a whole hour: read it too, since the hour is recounted -#}
    {%- do bounds.update({schema_name: "(" ~ bound ~ " - interval '1 microsecond')"}) %}
{%- endfor %}

-- The raw tables are found in each source schema while the model runs
-- (segment_relations()), so dbt cannot see this edge to the source:
-- depends_on: {{ source("segment", "tracks") }}

with

loaded as (
    {{ segment_union_relations(
        relations,
        [
            ["anonymous_id", "text"],
            ["user_id", "text"],
            ["timestamp", "timestamptz", "event_timestamp"],
            ["received_at", "timestamptz"],
            ["uuid_ts", "timestamptz"],
        ],
        watermarks=bounds,
    ) }}
),

measured as (
    select
        source_schema,
        source_table as table_name,
        date_trunc('hour', uuid_ts, 'UTC') as load_hour,
        extract(epoch from uuid_ts - received_at) as load_lag_seconds,
        uuid_ts - {{ segment_occurred_at("event_timestamp") }}
        > interval '24 hours' as is_late,
        event_timestamp > received_at as is_future,
        anonymous_id is not null
        and {{ segment_clean_id("anonymous_id") }} is null as has_junk_anonymous_id,
        user_id is not null
        and {{ segment_clean_id("user_id") }} is null as has_junk_user_id
    from loaded
    where uuid_ts is not null
)

select
    source_schema,
    table_name,
    load_hour,
    count(*)::bigint as rows_loaded,
    count(*) filter (where is_late)::bigint as late_rows,
    percentile_cont(0.5) within group (
        order by load_lag_seconds
    ) as p50_load_lag_seconds,
    percentile_cont(0.95) within group (
        order by load_lag_seconds
    ) as p95_load_lag_seconds,
    count(*) filter (where is_future)::bigint as future_timestamps,
    count(*) filter (
        where has_junk_anonymous_id or has_junk_user_id
    )::bigint as junk_ids
from measured
group by source_schema, table_name, load_hour
