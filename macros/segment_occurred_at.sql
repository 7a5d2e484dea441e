{% macro segment_occurred_at(
    event_timestamp='"timestamp"', received_at="received_at", loaded_at="uuid_ts"
) -%}
    {#-
        SQL for when a call happened (the event-time rule): Segment's skew-corrected
        timestamp, capped at the time Segment received it (an event cannot happen
        later; future device clocks must not move reports), falling back to
        received_at, then to the load time. PostgreSQL's least() ignores nulls, which gives the first
        fallback.
    -#}
    coalesce(least({{ event_timestamp }}, {{ received_at }}), {{ loaded_at }})
{%- endmacro %}
