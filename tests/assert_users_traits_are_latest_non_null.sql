-- Every trait column of the users mart holds, for each user, the latest non-null
-- value (by occurred_at, then message_id) over the identify calls resolved to the
-- user, for whatever trait columns the warehouse has; every user with a trait value
-- has a users row.
{%- set base_columns = [
    "message_id", "source_schema", "anonymous_id", "user_id", "occurred_at",
    "event_timestamp", "sent_at", "original_timestamp", "received_at", "loaded_at",
    "staged_at",
] %}
{%- set own_columns = [
    "user_id", "merged_user_ids", "event_count", "session_count", "identify_count",
    "first_seen_at", "last_seen_at",
] %}
{%- set traits = [] %}
{%- if execute %}
    {%- for column in adapter.get_columns_in_relation(ref("stg_segment__identifies")) %}
        {%- if column.name not in base_columns %}
            {%- do traits.append(column.name) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

with

users as (
    select * from {{ ref("users") }}
),

identifies as (
    select * from {{ ref("stg_segment__identifies") }}
),

user_ids_merged as (
    select * from {{ ref("int_user_ids_merged") }}
),

anonymous_ids_linked as (
    select * from {{ ref("int_anonymous_ids_linked") }}
),

resolved_identifies as (
    select
        identifies.*,
        case
            when identifies.user_id is not null
                then coalesce(merged_user.canonical_user_id, identifies.user_id)
            when link.user_id is not null
                then coalesce(merged_link.canonical_user_id, link.user_id)
            else device_alias.canonical_user_id
        end as resolved_user_id
    from identifies
    left join user_ids_merged as merged_user
        on identifies.user_id = merged_user.user_id and not merged_user.is_anonymous_id
    left join anonymous_ids_linked as link
        on identifies.user_id is null and identifies.anonymous_id = link.anonymous_id
    left join user_ids_merged as merged_link
        on link.user_id = merged_link.user_id and not merged_link.is_anonymous_id
    left join user_ids_merged as device_alias
        on
            identifies.user_id is null
            and identifies.anonymous_id = device_alias.user_id
            and device_alias.is_anonymous_id
    where
        not coalesce(
            case
                when identifies.user_id is not null then merged_user.is_excluded
                when link.user_id is not null then merged_link.is_excluded
                else device_alias.is_excluded
            end,
            false
        )
),
{%- for trait in traits %}
    {%- set column = segment_quote_identifier(trait) %}

    latest_{{ loop.index }} as (
        select distinct on (resolved_user_id)
            resolved_user_id as user_id,
            {{ column }}::text as trait_value
        from resolved_identifies
        where resolved_user_id is not null and {{ column }} is not null
        order by resolved_user_id asc, occurred_at desc, message_id desc
    ),
{%- endfor %}

mismatches as (
    {%- for trait in traits %}
        {%- set users_column = segment_quote_identifier(
            "trait_" ~ trait if trait in own_columns else trait
        ) %}
        select
            {{ segment_string_literal(trait) }} as trait_name,
            users.{{ users_column }}::text as users_value,
            latest_{{ loop.index }}.trait_value as expected_value,
            coalesce(users.user_id, latest_{{ loop.index }}.user_id) as user_id
        from users
        full outer join latest_{{ loop.index }}
            on users.user_id = latest_{{ loop.index }}.user_id
        where
            users.{{ users_column }}::text
            is distinct from latest_{{ loop.index }}.trait_value
        union all
    {%- endfor %}
    -- closes the union (and is the whole query when there is no trait column)
    select
        null::text as trait_name,
        null::text as users_value,
        null::text as expected_value,
        resolved_user_id as user_id
    from resolved_identifies
    where false
)

select * from mismatches
