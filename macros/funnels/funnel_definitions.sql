{% macro funnel_definitions() -%}
    {#-
        SQL selecting the steps of seeds/funnels.csv, one row per (funnel_name,
        step_number), with the funnel's window as an interval: the window_hours of
        its step-1 row, else var funnel_window_hours (README, "For analysts",
        funnels). A funnel without a step-1 row has no window and matches nothing;
        the seed's tests report it.
    -#}
    {%- set settings = segment_settings() %}
    select
        steps.funnel_name,
        steps.step_number,
        steps.event_name,
        nullif(steps.property_name, '') as property_name,
        steps.property_value,
        coalesce(first_steps.window_hours, {{ settings.funnel_window_hours }})
        * interval '1 hour' as funnel_window
    from {{ ref("funnels") }} as steps
    inner join {{ ref("funnels") }} as first_steps
        on
            steps.funnel_name = first_steps.funnel_name
            and first_steps.step_number = 1
{%- endmacro %}
