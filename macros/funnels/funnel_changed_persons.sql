{% macro funnel_changed_persons() -%}
    {#-
        The changed keys of int_funnel_steps: SQL selecting (person_id,
        recompute_from) for each person with an event of a funnel's step in
        int_events' change log (as it was and as it is). An entry can only change
        when a step-1 event of its own UTC day changes (which event enters), or
        an event that may reach a later step changes within its window. So
        recompute_from is the UTC day of the event when its name is only ever a
        step 1, else that day less the longest funnel window; the person's
        entries of earlier days stay as stored. (Property filters are not read
        here: a name that a later step names counts, whatever its properties.)
    -#}
    select
        changes.person_id,
        case
            when changes.event_name in (
                select later.event_name from {{ ref("funnels") }} as later
                where later.step_number > 1
            )
                then (
                    (changes.occurred_at - longest.funnel_window) at time zone 'UTC'
                )::date
            else (changes.occurred_at at time zone 'UTC')::date
        end as recompute_from
    from {{ change_log("int_events") }} as changes
    cross join (
        select max(definitions.funnel_window) as funnel_window
        from ({{ funnel_definitions() }}) as definitions
    ) as longest
    where
        changes.person_id is not null
        and changes.event_name in (
            select funnels.event_name from {{ ref("funnels") }} as funnels
        )
{%- endmacro %}
