{% test unique_combination_of_columns(model, combination_of_columns) %}
    {#- Fails with each combination of values that occurs on more than one row. -#}
    select
        {{ combination_of_columns | join(", ") }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(", ") }}
    having count(*) > 1
{% endtest %}
