{{
    config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="user_id",
        indexes=[
            {"columns": ["user_id"], "unique": True},
            {"columns": ["changed_at"]},
        ],
        post_hook=["{{ run_state_record() }}", "analyze {{ this }}"],
    )
}}

{#-
    Alias components are recomputed in full on every run (alias calls are rare);
    only ids whose canonical id or exclusion changed are written, stamped with this
    run, so that downstream models recompute just what those ids touch.
-#}
{%- set excluded = var("excluded_user_ids") %}

with recursive

aliases as (
    select * from {{ ref("stg_segment__aliases") }}
),

user_links as (
    -- a previous_id that is the call's own anonymous id links a device, not a user
    select
        user_id,
        previous_id
    from aliases
    where
        user_id is not null
        and previous_id is not null
        and previous_id is distinct from anonymous_id
),

excluded_ids as (
    {%- if excluded | length > 0 %}
        select unnest(array[
            {%- for user_id in excluded -%}
                {{ segment_string_literal(user_id) }}{{ ", " if not loop.last }}
            {%- endfor -%}
        ]::text[]) as user_id
    {%- else %}
        select null::text as user_id
        where false
    {%- endif %}
),

nodes as (
    select user_id from aliases
    where user_id is not null
    union
    select previous_id as user_id from user_links
    union
    select user_id from excluded_ids
    {%- if is_incremental() %}
        -- keeps ids that left excluded_user_ids, so that they are un-excluded
        union
        select user_id from {{ this }}
    {%- endif %}
),

edges as (
    select
        user_id as from_id,
        previous_id as to_id
    from user_links
    union
    select
        previous_id as from_id,
        user_id as to_id
    from user_links
),

reachable (user_id, member_id) as (
    select
        user_id,
        user_id as member_id
    from nodes
    union
    select
        reachable.user_id,
        edges.to_id as member_id
    from reachable
    inner join edges on reachable.member_id = edges.from_id
),

components as (
    select
        user_id,
        min(member_id) as component_id,
        bool_or(member_id in (select excluded_ids.user_id from excluded_ids))
            as is_excluded
    from reachable
    group by user_id
),

latest_alias_per_component as (
    select distinct on (components.component_id)
        components.component_id,
        aliases.user_id as canonical_user_id
    from aliases
    inner join components on aliases.user_id = components.user_id
    order by
        components.component_id asc,
        aliases.occurred_at desc,
        aliases.message_id desc
),

resolved as (
    select
        components.user_id,
        components.is_excluded,
        coalesce(latest.canonical_user_id, components.user_id) as canonical_user_id
    from components
    left join latest_alias_per_component as latest
        on components.component_id = latest.component_id
),

changed as (
    select
        resolved.user_id,
        resolved.canonical_user_id,
        resolved.is_excluded,
        {{ segment_staged_at() }} as changed_at
    from
        resolved
    {%- if is_incremental() %}
        left join {{ this }} as previous
            on resolved.user_id = previous.user_id
        where
            previous.user_id is null
            or previous.canonical_user_id != resolved.canonical_user_id
            or previous.is_excluded != resolved.is_excluded
    {%- endif %}
)

select * from changed
