{{
    config(
        materialized="change_driven",
        recompute_by=["source_schema", "event_name", "activity_date"],
        changed_keys=[{
            "log": "int_events",
            "select": {
                "source_schema": "source_schema",
                "event_name": "event_name",
                "activity_date": "activity_date",
            },
        }],
        change_logs=["int_events"],
        indexes=[
            {"columns": ["source_schema", "event_name", "activity_date"], "unique": True},
        ],
    )
}}

{#-
    How many events of each name each source sent on each UTC day, with the first
    and last of them: the event catalog's history, kept small (sources x events x
    days) so that the catalog never reads every event. An incremental run recounts
    the (source, event, day) keys that int_events' change log names, by an
    index-only scan of int_events' (event_name, activity_date, source_schema,
    occurred_at) index: a day's events are spread over the table, and reading
    their rows would cost a table page per few events.
-#}

select
    events.source_schema,
    events.event_name,
    events.activity_date,
    count(*)::bigint as event_count,
    min(events.occurred_at) as first_seen_at,
    max(events.occurred_at) as last_seen_at
from {{ ref("int_events") }} as events
{%- if change_driven_is_incremental() %}
    inner join {{ changed_keys_relation() }} as changed
        on
            events.event_name = changed.event_name
            and events.activity_date = changed.activity_date
            and events.source_schema = changed.source_schema
{%- endif %}
group by events.source_schema, events.event_name, events.activity_date
