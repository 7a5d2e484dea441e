{% macro daily_active_users_presence_changes() -%}
    {#-
        For daily_active_users: SQL selecting (person_id, activity_date,
        presence_change) from int_person_days' change log, one row per person-day
        whose presence changed (+1 a day gained, -1 a day lost). A day whose event
        count changed is logged removed and added again, which cancels out here: it
        moves no window and no first day.
    -#}
    select
        day_changes.person_id,
        day_changes.activity_date,
        sum(day_changes.change_sign) as presence_change
    from {{ change_log("int_person_days") }} as day_changes
    group by day_changes.person_id, day_changes.activity_date
    having sum(day_changes.change_sign) != 0
{%- endmacro %}
