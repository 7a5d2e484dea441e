{{ config(indexes=[{"columns": ["group_id"], "unique": True}]) }}

{#-
    One row per account (group id) known from group calls or Segment's accounts
    tables (README, "For analysts", accounts). Every trait, from the group calls'
    traits and the accounts tables' columns, holds its latest non-null value over
    the group calls (by occurred_at, then message id, as for users), else the
    accounts table's value (its latest-loaded row), as text. Members and their
    activity come from account_members and int_person_days, the group calls from
    int_group_calls. Rebuilt in full on every run: group calls and accounts are
    few.
-#}
{%- set own_columns = [
    "group_id", "group_call_count", "member_count", "active_members_28d",
    "first_seen_at", "last_seen_at",
] %}
{%- set account_keys = ["account_id", "source_schema", "received_at", "loaded_at"] %}
{%- set group_calls = ref("stg_segment__groups") %}
{%- set call_traits = [] %}
{%- set table_traits = [] %}
{%- if execute %}
    {%- set query %}
        select distinct jsonb_object_keys(traits) as trait
        from {{ group_calls }}
        where jsonb_typeof(traits) = 'object'
        order by trait
    {%- endset %}
    {%- for row in run_query(query).rows %}
        {%- do call_traits.append(row[0]) %}
    {%- endfor %}
    {%- for column in adapter.get_columns_in_relation(ref("stg_segment__accounts")) %}
        {%- if column.name not in account_keys %}
            {%- do table_traits.append(column.name) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}
{%- set traits = (call_traits + table_traits) | unique | sort %}

with

kept_calls as (
    select * from {{ ref("int_group_calls") }}
),

account_rows as (
    select distinct on (account_id) *
    from {{ ref("stg_segment__accounts") }}
    order by account_id asc, loaded_at desc, source_schema asc
),

call_summary as (
    select
        group_id,
        {%- for trait in call_traits %}
            (
                array_agg(
                    traits ->> {{ segment_string_literal(trait) }}
                    order by occurred_at desc, message_id desc
                )
                filter (where traits ->> {{ segment_string_literal(trait) }} is not null)
            )[1] as {{ segment_quote_identifier("call_" ~ trait) }},
        {%- endfor %}
        count(*) as group_call_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from kept_calls
    group by group_id
),

members as (
    select * from {{ ref("account_members") }}
),

latest_day as (
    select max(activity_date) as latest_date
    from {{ ref("int_person_days") }}
),

member_counts as (
    select
        members.group_id,
        count(*) as member_count,
        count(*) filter (
            where exists (
                select 1 from {{ ref("int_person_days") }} as active_days
                where
                    active_days.person_id = members.person_id
                    and active_days.activity_date > latest_day.latest_date - 28
            )
        ) as active_members_28d
    from members
    cross join latest_day
    group by members.group_id
),

group_ids as (
    select group_id from call_summary
    union
    select account_id as group_id from account_rows
)

select
    group_ids.group_id,
    {%- for trait in traits %}
        {%- set sources = [] %}
        {%- if trait in call_traits %}
            {%- do sources.append(
                "call_summary." ~ segment_quote_identifier("call_" ~ trait)
            ) %}
        {%- endif %}
        {%- if trait in table_traits %}
            {%- do sources.append(
                "account_rows." ~ segment_quote_identifier(trait) ~ "::text"
            ) %}
        {%- endif %}
        coalesce({{ sources | join(", ") }}) as {{ segment_quote_identifier(
            "trait_" ~ trait if trait in own_columns else trait
        ) }},
    {%- endfor %}
    coalesce(call_summary.group_call_count, 0) as group_call_count,
    coalesce(member_counts.member_count, 0) as member_count,
    coalesce(member_counts.active_members_28d, 0) as active_members_28d,
    call_summary.first_seen_at,
    call_summary.last_seen_at
from group_ids
left join call_summary on group_ids.group_id = call_summary.group_id
left join account_rows on group_ids.group_id = account_rows.account_id  -- noqa: ST11
left join member_counts on group_ids.group_id = member_counts.group_id
