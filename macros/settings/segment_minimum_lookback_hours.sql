{% macro segment_minimum_lookback_hours() %}
    {#-
        The smallest incremental_lookback_hours accepted: a Segment sync can stay
        uncommitted for a while, and its rows then carry load times (uuid_ts) older
        than rows a run has already staged.
    -#}
    {{ return(1) }}
{% endmacro %}
