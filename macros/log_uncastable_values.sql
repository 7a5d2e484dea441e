{% macro log_uncastable_values() -%}
    {#-
        post-hook of uncastable_values: logs how many raw values staging read as
        null because they are not timestamps, per table and column, with the first
        message id and value of each, and where the full list is.
    -#}
    {%- if execute -%}
        {%- set query -%}
            select
                source_schema || '.' || table_name || '.' || column_name,
                count(*),
                min(message_id),
                min(raw_value) filter (
                    where message_id = (
                        select min(first.message_id) from {{ this }} as first
                        where
                            first.source_schema = found.source_schema
                            and first.table_name = found.table_name
                            and first.column_name = found.column_name
                    )
                )
            from {{ this }} as found
            group by source_schema, table_name, column_name
            order by 1
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- do exceptions.warn(
                "segment_reports: " ~ row[1] ~ " value(s) of " ~ row[0]
                ~ " are not timestamps and were read as null (id " ~ row[2]
                ~ ": " ~ tojson(row[3]) ~ "); all of them are in " ~ this
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
