{% macro change_log_create(target_relation, log_relation, log_columns) -%}
    {#-
        After a full build: an empty change log (its consumers rebuild in full, as
        change_driven_is_incremental() sees from this model's rebuilt_at), or no
        log when the model publishes none.
    -#}
    drop table if exists {{ log_relation }};
    {%- if log_columns %}
        create schema if not exists {{ adapter.quote(log_relation.schema) }};
        create table {{ log_relation }} as
        select
            {%- for column in log_columns %}
                {{ adapter.quote(column) }},
            {%- endfor %}
            0::smallint as change_sign,
            {{ segment_staged_at() }} as changed_at
        from {{ target_relation }}
        where false;
        create index on {{ log_relation }} (changed_at);
    {%- endif %}
{%- endmacro %}
