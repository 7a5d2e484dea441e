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
    {{ segment_values(
        rows,
        [["source_schema", "text"], ["table_name", "text"], ["reason", "text"]],
        "ignored_relations",
    ) }}
)

select * from ignored
