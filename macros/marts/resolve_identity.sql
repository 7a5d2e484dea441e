{% macro resolve_identity(calls) -%}
    {#-
        SQL selecting every column of `calls` (a CTE or relation with user_id and
        anonymous_id) plus resolved_user_id and is_excluded, by the identity rules
        (README, "For analysts", identity): a row with a
        user_id takes that id's canonical id; otherwise its anonymous id follows its
        most recent link (int_anonymous_ids_linked), else an alias of that anonymous
        id (int_user_ids_merged rows with is_anonymous_id); otherwise null.
        is_excluded marks rows resolved into a component of excluded_user_ids.
    -#}
    select
        {{ calls }}.*,
        case
            when {{ calls }}.user_id is not null
                then coalesce(merged_user.canonical_user_id, {{ calls }}.user_id)
            when link.user_id is not null
                then coalesce(merged_link.canonical_user_id, link.user_id)
            else device_alias.canonical_user_id
        end as resolved_user_id,
        case
            when {{ calls }}.user_id is not null
                then coalesce(merged_user.is_excluded, false)
            when link.user_id is not null
                then coalesce(merged_link.is_excluded, false)
            else coalesce(device_alias.is_excluded, false)
        end as is_excluded
    from {{ calls }}
    left join {{ ref("int_user_ids_merged") }} as merged_user
        on
            {{ calls }}.user_id = merged_user.user_id
            and not merged_user.is_anonymous_id
    left join {{ ref("int_anonymous_ids_linked") }} as link
        on
            {{ calls }}.user_id is null
            and {{ calls }}.anonymous_id = link.anonymous_id
    left join {{ ref("int_user_ids_merged") }} as merged_link
        on link.user_id = merged_link.user_id and not merged_link.is_anonymous_id
    left join {{ ref("int_user_ids_merged") }} as device_alias
        on
            {{ calls }}.user_id is null
            and {{ calls }}.anonymous_id = device_alias.user_id
            and device_alias.is_anonymous_id
{%- endmacro %}
