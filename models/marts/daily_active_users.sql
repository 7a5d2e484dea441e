{{
    config(
        materialized="change_driven",
        recompute_by=["activity_date"],
        changed_keys=[{"macro": "daily_active_users_changed_dates"}],
        change_logs=["int_person_days"],
        indexes=[{"columns": ["activity_date"], "unique": True}],
    )
}}

{#-
    Active persons per UTC day over trailing windows of 1, 7 and 28 days (the day
    included), and persons whose first event falls on the day; every day from the
    first to the last event day (int_events).
    Windows are counted without expanding person-days: each person's days become
    islands of covered days ([day, day + window - 1], merged when they touch), and
    a running sum of island starts (+1) and ends (-1) gives the count for every
    day. A full build does this for every person. An incremental run does it only
    for the persons who gained or lost a day in int_person_days' change log
    (daily_active_users_presence_changes()), over their days within 27 days of a
    changed one, now (+1) and before (-1: now, minus the days added, plus the days
    removed), and
    adds the running sum of the difference to the stored days from the earliest
    changed day on; new_users moves by one on each changed person's old and new
    first day. Days the calendar gains are counted from int_person_days directly;
    days it loses are deleted (daily_active_users_changed_dates()).
-#}
{%- set incremental = change_driven_is_incremental() %}

with

person_days as not materialized (
    select * from {{ ref("int_person_days") }}
),

bounds as (
    select
        min(activity_date) as first_date,
        max(activity_date) as last_date
    from {{ ref("int_events") }}
),

{%- if incremental %}

    person_changes as (
        {{ daily_active_users_presence_changes() }}
    ),

    change_start as (
        select min(activity_date) as first_changed_date
        from person_changes
    ),

    -- A day's windows reach 27 days back, so a person's coverage moves only on the
    -- days from their first changed day to 27 days after their last one, and only
    -- their days from 27 days before the first to 27 days after the last decide it.
    changed_persons as (
        select
            person_id,
            min(activity_date) - 27 as read_from,
            max(activity_date) + 27 as read_until
        from person_changes
        group by person_id
    ),

    days_now as (
        select
            person_days.person_id,
            person_days.activity_date
        from changed_persons
        inner join person_days
            on
                changed_persons.person_id = person_days.person_id
                and person_days.activity_date
                between changed_persons.read_from and changed_persons.read_until
    ),

    days_before as (
        select
            coalesce(days_now.person_id, person_changes.person_id) as person_id,
            coalesce(days_now.activity_date, person_changes.activity_date)
                as activity_date
        from days_now
        full outer join person_changes
            on
                days_now.person_id = person_changes.person_id
                and days_now.activity_date = person_changes.activity_date
        where
            (case when days_now.person_id is null then 0 else 1 end)
            - coalesce(person_changes.presence_change, 0)
            = 1
    ),

    signed_days as (
        select
            person_id,
            activity_date,
            1 as sign
        from days_now
        union all
        select
            person_id,
            activity_date,
            -1 as sign
        from days_before
    ),

    first_days_before_in_window as (
        select
            person_id,
            min(activity_date) as first_day
        from days_before
        group by person_id
    ),

    -- The first day before the run: a first day now that lies before the person's
    -- read window did not change; otherwise it is the first day before in the
    -- window, else the first day after it (days outside the window did not change).
    first_days as (
        select
            changed_persons.person_id,
            first_now.first_day as first_day_now,
            case
                when first_now.first_day < changed_persons.read_from
                    then first_now.first_day
                else
                    coalesce(
                        window_before.first_day,
                        (
                            select min(later.activity_date)
                            from person_days as later
                            where
                                later.person_id = changed_persons.person_id
                                and later.activity_date > changed_persons.read_until
                        )
                    )
            end as first_day_before
        from changed_persons
        cross join lateral (
            select min(person_days.activity_date) as first_day
            from person_days
            where person_days.person_id = changed_persons.person_id
        ) as first_now
        left join first_days_before_in_window as window_before
            on changed_persons.person_id = window_before.person_id
    ),

    new_user_changes as (
        select
            first_day_now as activity_date,
            1 as new_users_change
        from first_days
        where first_day_now is not null
        union all
        select
            first_day_before as activity_date,
            -1 as new_users_change
        from first_days
        where first_day_before is not null
    ),
{%- else %}

    signed_days as (
        select
            person_id,
            activity_date,
            1 as sign
        from person_days
    ),
{%- endif %}

{%- for window_days in [1, 7, 28] %}

    islands_{{ window_days }} as (
        select
            person_id,
            sign,
            activity_date,
            coalesce(
                lag(activity_date) over person_timeline
                < activity_date - {{ window_days }},
                true
            ) as is_island_start
        from signed_days
        window person_timeline as (partition by sign, person_id order by activity_date)
    ),

    island_ids_{{ window_days }} as (
        select
            person_id,
            sign,
            activity_date,
            count(*) filter (where is_island_start) over (
                partition by sign, person_id order by activity_date
            ) as island_id
        from islands_{{ window_days }}
    ),

    coverage_{{ window_days }} as (
        select
            sign,
            min(activity_date) as covered_from,
            max(activity_date) + {{ window_days }} as covered_until
        from island_ids_{{ window_days }}
        group by sign, person_id, island_id
    ),

    deltas_{{ window_days }} as (
        select
            covered_from as activity_date,
            sum(sign) as delta
        from coverage_{{ window_days }}
        group by covered_from
        union all
        select
            covered_until as activity_date,
            -sum(sign) as delta
        from coverage_{{ window_days }}
        group by covered_until
    ),
{%- endfor %}

{%- if incremental %}

    -- Every day from the first changed one to the last: the running difference
    change_calendar as (
        select change_start.first_changed_date + day_offsets.day_offset as activity_date
        from change_start
        cross join bounds
        cross join generate_series(
            0, bounds.last_date - change_start.first_changed_date
        ) as day_offsets (day_offset)
    ),

    daily_changes as (
        select
            activity_date,
            sum(change_1d) as change_1d,
            sum(change_7d) as change_7d,
            sum(change_28d) as change_28d,
            sum(new_users_change) as new_users_change
        from (
            {%- for window_days in [1, 7, 28] %}
                select
                    activity_date,
                    {%- for other in [1, 7, 28] %}
                        {{ "delta" if other == window_days else "0" }}
                            as change_{{ other }}d,
                    {%- endfor %}
                    0 as new_users_change
                from deltas_{{ window_days }}
                union all
            {%- endfor %}
            select
                activity_date,
                0 as change_1d,
                0 as change_7d,
                0 as change_28d,
                new_users_change
            from new_user_changes
        ) as changes
        group by activity_date
    ),

    running as (
        select
            change_calendar.activity_date,
            {%- for window_days in [1, 7, 28] %}
                sum(coalesce(daily_changes.change_{{ window_days }}d, 0)) over (
                    order by change_calendar.activity_date
                ) as change_{{ window_days }}d,
            {%- endfor %}
            coalesce(daily_changes.new_users_change, 0) as new_users_change
        from change_calendar
        left join daily_changes
            on change_calendar.activity_date = daily_changes.activity_date
    ),

    adjusted as (
        select
            stored.activity_date,
            stored.active_users_1d + running.change_1d as active_users_1d,
            stored.active_users_7d + running.change_7d as active_users_7d,
            stored.active_users_28d + running.change_28d as active_users_28d,
            stored.new_users + running.new_users_change as new_users
        from {{ this }} as stored
        inner join running on stored.activity_date = running.activity_date
        cross join bounds
        where stored.activity_date >= bounds.first_date
    ),

    -- Days the calendar gained: counted directly
    gained as (
        select bounds.first_date + day_offsets.day_offset as activity_date
        from bounds
        cross join
            generate_series(0, bounds.last_date - bounds.first_date)
                as day_offsets (day_offset)
        where not exists (
            select 1 from {{ this }} as stored
            where stored.activity_date = bounds.first_date + day_offsets.day_offset
        )
    ),

    counted as (
        select * from adjusted
        union all
        select
            gained.activity_date,
            {%- for window_days in [1, 7, 28] %}
                (
                    select count(distinct person_days.person_id)
                    from person_days
                    where
                        person_days.activity_date
                        between gained.activity_date - {{ window_days - 1 }}
                        and gained.activity_date
                ) as active_users_{{ window_days }}d,
            {%- endfor %}
            (
                select count(*)
                from person_days
                where
                    person_days.activity_date = gained.activity_date
                    and not exists (
                        select 1 from person_days as earlier
                        where
                            earlier.person_id = person_days.person_id
                            and earlier.activity_date < gained.activity_date
                    )
            ) as new_users
        from gained
    )
{%- else %}

    -- Day offsets, not a series of timestamps: dates would step through timestamptz
    -- in the session time zone, where after a DST change that skips local midnight
    -- every step lands at 01:00 and the last day falls out of the calendar.
    calendar as (
        select bounds.first_date + day_offsets.day_offset as activity_date
        from bounds
        cross join generate_series(0, bounds.last_date - bounds.first_date)
            as day_offsets (day_offset)
    ),

    {%- for window_days in [1, 7, 28] %}

        daily_deltas_{{ window_days }} as (
            select
                activity_date,
                sum(delta) as delta
            from deltas_{{ window_days }}
            group by activity_date
        ),

        active_{{ window_days }} as (
            select
                calendar.activity_date,
                sum(coalesce(daily.delta, 0)) over (order by calendar.activity_date)
                    as active_users
            from calendar
            left join daily_deltas_{{ window_days }} as daily
                on calendar.activity_date = daily.activity_date
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

    counted as (
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
{%- endif %}

select
    activity_date,
    active_users_1d::bigint as active_users_1d,
    active_users_7d::bigint as active_users_7d,
    active_users_28d::bigint as active_users_28d,
    new_users::bigint as new_users
from counted
