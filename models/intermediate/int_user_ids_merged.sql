{{
    config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="user_id",
        indexes=[
            {"columns": ["user_id"], "unique": True},
            {"columns": ["changed_at"]},
        ],
        post_hook=["{{ run_state_record() }}", "{{ analyze_if_stale() }}"],
    )
}}

{#-
    Identity rules 2 and 5 over alias calls. A previous_id is a device's anonymous id
    when it is the alias call's own anonymous_id, or when it is some call's
    anonymous_id and never anyone's user_id; such an id links that device to the
    alias's user (is_anonymous_id rows), used only while the device has no link of
    rule 3. Every other previous_id is a user id: user ids linked by aliases form
    components whose canonical id is the user_id of the most recent alias call.
    Everything is recomputed on every run (alias calls are rare); only rows whose
    values changed are written, stamped with this run, so that downstream models
    recompute just what those ids touch.
-#}
{%- set excluded = var("excluded_user_ids") %}

with recursive

aliases as (
    select * from {{ ref("stg_segment__aliases") }}
),

previous_ids as (
    select distinct
        previous_id,
        previous_id = anonymous_id as is_own_anonymous_id
    from aliases
    where user_id is not null and previous_id is not null
),

anonymous_previous_ids as (
    select previous_ids.previous_id
    from previous_ids
    group by previous_ids.previous_id
    having
        bool_or(previous_ids.is_own_anonymous_id)
        or (
            (
                {%- for calls in ["tracks", "pages", "screens"] %}
                    exists (
                        select 1 from {{ ref("stg_segment__" ~ calls) }} as calls
                        where calls.device_key = previous_ids.previous_id
                    )
                    or
                {%- endfor %}
                exists (
                    select 1 from {{ ref("stg_segment__identifies") }} as identifies
                    where identifies.anonymous_id = previous_ids.previous_id
                )
            )
            {%- for calls in ["tracks", "pages", "screens", "identifies", "aliases"] %}
                and not exists (
                    select 1 from {{ ref("stg_segment__" ~ calls) }} as calls
                    where calls.user_id = previous_ids.previous_id
                )
            {%- endfor %}
        )
),

user_links as (
    select
        user_id,
        previous_id
    from aliases
    where
        user_id is not null
        and previous_id is not null
        and previous_id not in (
            select anonymous_previous_ids.previous_id from anonymous_previous_ids
        )
),

device_aliases as (
    -- the most recent alias of each anonymous previous_id
    select distinct on (previous_id)
        previous_id as anonymous_id,
        user_id
    from aliases
    where
        user_id is not null
        and previous_id in (
            select anonymous_previous_ids.previous_id from anonymous_previous_ids
        )
    order by previous_id asc, occurred_at desc, message_id desc
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
        where not is_anonymous_id
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

resolved_users as (
    select
        components.user_id,
        components.is_excluded,
        coalesce(latest.canonical_user_id, components.user_id) as canonical_user_id
    from components
    left join latest_alias_per_component as latest
        on components.component_id = latest.component_id
),

resolved as (
    select
        user_id,
        canonical_user_id,
        false as is_anonymous_id,
        is_excluded
    from resolved_users
    where
        user_id not in (
            select anonymous_previous_ids.previous_id from anonymous_previous_ids
        )
    union all
    select
        device_aliases.anonymous_id as user_id,
        resolved_users.canonical_user_id,
        true as is_anonymous_id,
        resolved_users.is_excluded
    from device_aliases
    inner join resolved_users on device_aliases.user_id = resolved_users.user_id
),

changed as (
    select
        resolved.user_id,
        resolved.canonical_user_id,
        resolved.is_anonymous_id,
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
            or previous.is_anonymous_id != resolved.is_anonymous_id
            or previous.is_excluded != resolved.is_excluded
    {%- endif %}
)

select * from changed
