{{
    config(
        materialized="table",
        post_hook="{{ log_uncastable_values() }}",
    )
}}

{#-
    Only tables whose envelope timestamps are not timestamps (text in a table an
    import tool wrote, say) are scanned; on Segment's own tables this selects
    nothing and reads nothing.
-#}
{%- set timestamp_columns = [
    "timestamp", "sent_at", "original_timestamp", "received_at", "uuid_ts",
] %}
{%- set selects = [] %}
{%- for relation in segment_classified_catalog() if relation.use != "ignored" %}
    {%- for name, data_type in relation.columns
        if name in timestamp_columns
        and segment_base_type(data_type) not in [
            "timestamp with time zone", "timestamp without time zone"
        ] %}
        {%- set column = segment_quote_identifier(name) %}
        {%- do selects.append(
            "select "
            ~ segment_string_literal(relation.schema) ~ "::text as source_schema, "
            ~ segment_string_literal(relation.table) ~ "::text as table_name, "
            ~ segment_string_literal(name) ~ "::text as column_name, "
            ~ "id::text as message_id, "
            ~ column ~ "::text as raw_value, "
            ~ segment_string_literal(data_type) ~ "::text as raw_type "
            ~ "from " ~ api.Relation.create(
                database=target.database,
                schema=relation.schema,
                identifier=relation.table,
            )
            ~ " where " ~ column ~ " is not null and "
            ~ segment_cast(column, data_type, "timestamptz") ~ " is null"
        ) %}
    {%- endfor %}
{%- endfor %}

with

uncastable as (
    {%- if selects | length > 0 %}
        {{ selects | join("\n        union all\n        ") }}
    {%- else %}
        select
            null::text as source_schema,
            null::text as table_name,
            null::text as column_name,
            null::text as message_id,
            null::text as raw_value,
            null::text as raw_type
        where false
    {%- endif %}
)

select * from uncastable
