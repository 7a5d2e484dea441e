{% macro event_report_per_person(
    event_name, group_by, latest, count_as, first_as, last_as
) -%}
    {#-
        The per="person" select of event_report(): one row per (group_by
        properties..., person_id). A full build counts every event. An incremental
        run (change_driven by person_id, keyed by int_events' change log) returns
        every row of each changed person:
        - a person whose logged events were all added, each after the last event
          of its stored row, keeps the stored counts plus the added events' (the
          latest property values are then the added ones where they carry one);
        - a person who lost an event (it moved to another person, or its
          properties changed) or gained one at or before a stored row's last event
          is counted again from int_events.
        Rows are matched on their keys with nulls equal (a view with no
        deployment name, or no id at all, forms a row too).
    -#}
{%- set keys = group_by + ["person_id"] %}
{%- set event_literal = segment_string_literal(event_name) %}
{%- set count_column = segment_quote_identifier(count_as) %}
{%- set first_column = segment_quote_identifier(first_as) %}
{%- set last_column = segment_quote_identifier(last_as) %}
    with

{%- if change_driven_is_incremental() %}

        logged as (
            select * from {{ change_log("int_events") }} as event_changes
            where event_changes.event_name = {{ event_literal }}
        ),

        -- each added event looked up in int_events' (device_key, occurred_at)
        -- index, the calls with no id in its null range; an event that moved on
        -- since it was logged is another person's addition (and this one's removal)
        added_events as (
{%- for device in ["equal", "null"] %}
            select events.*
            from logged
            inner join {{ ref("int_events") }} as events
                on
{%- if device == "equal" %}
                    logged.device_key = events.device_key
{%- else %}
                    logged.device_key is null
                    and events.device_key is null
{%- endif %}
                    and logged.occurred_at = events.occurred_at
                    and logged.source_schema = events.source_schema
                    and logged.event_id = events.event_id
            where
                logged.change_sign > 0
                and logged.person_id is not distinct from events.person_id
{%- if not loop.last %}
            union all
{%- endif %}
{%- endfor %}
        ),

        added as (
            {{ event_report_person_counts(
                "added_events", group_by, latest, count_as, first_as, last_as
            ) }}
        ),

        stored as (
            select stored_rows.*
            from {{ this }} as stored_rows
            inner join {{ changed_keys_relation() }} as changed
                on {{ segment_null_safe_equal(
                    ["person_id"], "stored_rows", "changed"
                ) }}
        ),

        recounted_persons as (
            select logged.person_id
            from logged
            where logged.change_sign < 0
            union
            select added.person_id
            from added
            inner join stored
                on {{ segment_null_safe_equal(keys, "added", "stored") }}
            where added.{{ first_column }} <= stored.{{ last_column }}
        ),

        -- one (person_id, occurred_at) index range per person (offset 0 keeps it
        -- from turning into a scan of every such event), then the calls with no
        -- id when they are recounted
        recounted_events as (
            select person_events.*
            from recounted_persons
            cross join lateral (
                select events.* from {{ ref("int_events") }} as events
                where
                    events.person_id = recounted_persons.person_id
                    and events.event_name = {{ event_literal }}
                offset 0
            ) as person_events
            union all
            select events.* from {{ ref("int_events") }} as events
            where
                events.person_id is null
                and events.event_name = {{ event_literal }}
                and exists (
                    select 1 from recounted_persons
                    where recounted_persons.person_id is null
                )
        ),

        recounted as (
            {{ event_report_person_counts(
                "recounted_events", group_by, latest, count_as, first_as, last_as
            ) }}
        ),

{%- for side in ["stored", "added"] %}

        -- the {{ side }} rows of the persons not recounted
        {{ side }}_kept as (
            select {{ side }}.*
            from {{ side }}
            where not exists (
                select 1 from recounted_persons
                where {{ segment_null_safe_equal(
                    ["person_id"], "recounted_persons", side
                ) }}
            )
        ),
{%- endfor %}

        -- every added event is later than the stored row's last one; the
        -- columns in the order of event_report_person_counts()
        summed as (
            select
{%- for key in group_by %}
                    coalesce(
                        stored_kept.{{ segment_quote_identifier(key) }},
                        added_kept.{{ segment_quote_identifier(key) }}
                    ) as {{ segment_quote_identifier(key) }},
{%- endfor %}
{%- for property in latest %}
                    coalesce(
                        added_kept.{{ segment_quote_identifier(property) }},
                        stored_kept.{{ segment_quote_identifier(property) }}
                    ) as {{ segment_quote_identifier(property) }},
{%- endfor %}
                coalesce(stored_kept.person_id, added_kept.person_id) as person_id,
                greatest(stored_kept.user_id, added_kept.user_id) as user_id,
                coalesce(stored_kept.{{ count_column }}, 0)
                + coalesce(added_kept.{{ count_column }}, 0) as {{ count_column }},
                least(stored_kept.{{ first_column }}, added_kept.{{ first_column }})
                    as {{ first_column }},
                greatest(stored_kept.{{ last_column }}, added_kept.{{ last_column }})
                    as {{ last_column }}
            from stored_kept
            full outer join added_kept
                on {{ segment_null_safe_equal(keys, "stored_kept", "added_kept") }}
        ),

        report as (
            select * from summed
            union all
            select * from recounted
        )
    {%- else %}

        events as (
            select * from {{ ref("int_events") }}
            where event_name = {{ event_literal }}
        ),

        report as (
            {{ event_report_person_counts(
                "events", group_by, latest, count_as, first_as, last_as
            ) }}
        )
{%- endif %}

    select * from report
{%- endmacro %}
