{% macro changed_dates(since, upto=none) -%}
    {#-
        SQL selecting `activity_date` (UTC): the days whose events changed after
        `since` and up to `upto` (timestamptz literals): the days of every staged
        call of a device in int_device_changes from its recompute_from on (staging
        also holds the calls the marts leave out, so days that lost events are
        included), and the days of newly staged calls that carry no id. Per-day
        aggregates rebuild these days.
    -#}
    {{ changed_dates_in(ref("stg_segment__tracks"), since, upto) }}
    union
    {{ changed_dates_in(ref("stg_segment__pages"), since, upto) }}
    union
    {{ changed_dates_in(ref("stg_segment__screens"), since, upto) }}
{%- endmacro %}
