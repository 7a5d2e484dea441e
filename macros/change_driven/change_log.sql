{% macro change_log(model_name) -%}
    {#-
        For a change-driven model's select: a parenthesised subquery of the rows of
        `model_name`'s change log written after this model's last completed run
        (change_sign -1 for a row removed, +1 for a row added). Listing the model in
        change_logs lets this model know when that log no longer reaches back far
        enough (it then builds in full and never reads the log).
    -#}
    (
        select * from {{ change_log_relation(ref(model_name)) }}
        where changed_at > {{ run_state_since() }}
    )
{%- endmacro %}
