{{
    config(
        materialized="incremental",
        incremental_strategy="append",
        indexes=[{"columns": ["activity_date"], "unique": True}],
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }} where activity_date >="
            " (select min(activity_date) from ({{ changed_dates(run_state_since(), run_state_upto()) }})"
            " as changed){% endif %}",
        ],
        post_hook=["{{ run_state_record() }}", "analyze {{ this }}"],
        meta={"run_state_applied": ["events", "int_person_days"]},
    )
}}

{#-
    Active persons per UTC day over trailing windows of 1, 7 and 28 days (the day
    included), and persons whose first event falls on the day; every day from the
    first to the last event day. An incremental run rebuilds every day from the
    earliest day whose events changed: a change reaches the windows of the 27 days
    after it and can move a person's first day later.
    Windows are counted without expanding person-days: each person's days become
    islands of covered days ([day, day + window - 1], merged when they touch), and
    a running sum of island starts and ends gives the count for every day.
-#}
{%- set since = run_state_since() %}
{%- set upto = run_state_upto() %}

-- depends_on: {{ ref("int_device_changes") }}
-- depends_on: {{ ref("stg_segment__tracks") }}
-- depends_on: {{ ref("stg_segment__pages") }}
-- depends_on: {{ ref("stg_segment__screens") }}

with

events as not materialized (
    select * from {{ ref("events") }}
),

person_days as not materialized (
    select * from {{ ref("int_person_days") }}
),

bounds as (
    select
        {%- if is_incremental() %}
            -- no changed day: an empty calendar (greatest() ignores a null)
            greatest(
                min(events.activity_date),
                coalesce(
                    (
                        select min(changed.activity_date)
                        from ({{ changed_dates(since, upto) }}) as changed
                    ),
                    max(events.activity_date) + 1
                )
            ) as first_date,
        {%- else %}
            min(events.activity_date) as first_date,
        {%- endif %}
        max(events.activity_date) as last_date
    from events
),

-- Day offsets, not a series of timestamps: dates would step through timestamptz in
-- the session time zone, where after a DST change that skips local midnight every
-- step lands at 01:00 and the last day falls out of the calendar.
calendar as (
    select bounds.first_date + day_offsets.day_offset as activity_date
    from bounds
    cross join generate_series(0, bounds.last_date - bounds.first_date)
        as day_offsets (day_offset)
),

recent_person_days as (
    select person_days.*
    from person_days
    cross join bounds
    where person_days.activity_date >= bounds.first_date - 27
),

{%- for window_days in [1, 7, 28] %}

    islands_{{ window_days }} as (
        select
            person_id,
            activity_date,
            coalesce(
                lag(activity_date) over person_timeline
                < activity_date - {{ window_days }},
                true
            ) as is_island_start
        from recent_person_days
        window person_timeline as (partition by person_id order by activity_date)
    ),

    island_ids_{{ window_days }} as (
        select
            person_id,
            activity_date,
            count(*) filter (where is_island_start) over (
                partition by person_id order by activity_date
            ) as island_id
        from islands_{{ window_days }}
    ),

    coverage_{{ window_days }} as (
        select
            min(activity_date) as covered_from,
            max(activity_date) + {{ window_days }} as covered_until
        from island_ids_{{ window_days }}
        group by person_id, island_id
    ),

    deltas_{{ window_days }} as (
        select
            covered_from as activity_date,
            1 as delta
        from coverage_{{ window_days }}
        union all
        select
            covered_until as activity_date,
            -1 as delta
        from coverage_{{ window_days }}
    ),

    active_{{ window_days }} as (
        select
            activity_date,
            (sum(sum(delta)) over (order by activity_date))::bigint as active_users
        from (
            select
                activity_date,
                delta
            from deltas_{{ window_days }}
            union all
            select
                activity_date,
                0 as delta
            from calendar
        ) as changes
        group by activity_date
    ),
{%- endfor %}

first_days as (
    select
        first_day as activity_date,
        count(*) as new_users
    from (
        select min(activity_date) as first_day
        from person_days
        group by person_id
    ) as persons
    group by first_day
),

joined as (
    select
        calendar.activity_date,
        active_1.active_users as active_users_1d,
        active_7.active_users as active_users_7d,
        active_28.active_users as active_users_28d,
        coalesce(first_days.new_users, 0) as new_users
    from calendar
    inner join active_1 on calendar.activity_date = active_1.activity_date
    inner join active_7 on calendar.activity_date = active_7.activity_date
    inner join active_28 on calendar.activity_date = active_28.activity_date
    left join first_days on calendar.activity_date = first_days.activity_date
)

select * from joined
