{% test expression_is_true(model, expression, column_name=none) %}
    {#- Fails with each row for which the SQL expression is not true. -#}
    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)
{% endtest %}
