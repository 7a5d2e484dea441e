{{ config(materialized="table") }}

{#- stg_segment__tracks logs the same list in every run that builds staging. -#}
{%- set classified = segment_classified_catalog() %}
{%- set rows = [] %}
{%- for relation in classified if relation.use == "ignored" %}
    {%- do rows.append(
        "(" ~ segment_string_literal(relation.schema) ~ ", "
        ~ segment_string_literal(relation.table) ~ ", "
        ~ segment_string_literal(relation.reason) ~ ")"
    ) %}
{%- endfor %}

with

ignored as (
    {%- if rows | length > 0 %}
        select
            ignored_relations.source_schema::text as source_schema,
            ignored_relations.table_name::text as table_name,
            ignored_relations.reason::text as reason
        from (
            values
            {{ rows | join(",\n            ") }}
        ) as ignored_relations (source_schema, table_name, reason)
    {%- else %}
        select
            null::text as source_schema,
            null::text as table_name,
            null::text as reason
        where false
    {%- endif %}
)

select * from ignored
