{% macro funnel_changed_persons() -%}
    {#-
        The changed keys of int_funnel_steps: SQL selecting (person_id,
        recompute_from) for each person with an event of a funnel's step in
        int_events' change log (as it was and as it is), recompute_from being the
        UTC day of the earliest such event less the longest funnel window. An entry
        can only change when one of its events is within its window, or a step-1
        event of the same UTC day changes which event enters, so the person's
        entries of earlier days stay as stored.
    -#}
    select
        changes.person_id,
        (
            (changes.occurred_at - longest.funnel_window) at time zone 'UTC'
        )::date as recompute_from
    from {{ change_log("int_events") }} as changes
    cross join (
        select max(definitions.funnel_window) as funnel_window
        from ({{ funnel_definitions() }}) as definitions
    ) as longest
    where
        changes.person_id is not null
        and changes.event_name in (select funnels.event_name from {{ ref("funnels") }} as funnels)
{%- endmacro %}
