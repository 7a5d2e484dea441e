{% macro changed_persons(since, upto=none) -%}
    {#-
        SQL selecting (person_id, recompute_from): every person whose events changed
        after `since` and up to `upto` (timestamptz literals), with the earliest
        time from which they changed. A person changes when a device in
        int_device_changes recomputed events that belonged to them before
        (previous_person_ids) or belong to them now (the events mart, already
        updated). Per-person models rebuild each person from recompute_from on.
    -#}
    select
        person_id,
        min(recompute_from) as recompute_from
    from (
        select
            unnest(previous_person_ids) as person_id,
            recompute_from
        from {{ ref("int_device_changes") }}
        where {{ run_state_window("changed_at", since, upto) }}
        union all
        select
            events.person_id,
            changed.recompute_from
        from {{ ref("events") }} as events
        inner join ({{ changed_devices(since, upto) }}) as changed
            on
                events.device_key = changed.device_key
                and events.occurred_at >= changed.recompute_from
        where events.person_id is not null
    ) as changes
    group by person_id
{%- endmacro %}
