{{ config(materialized="view") }}

{#-
    The seed report "views of a deployment joined to the user who viewed it": the
    per-person counts of int_deployment_views_by_person with the user's name and
    email from the users mart, joined when queried, so a changed trait rewrites
    no count.
-#}

with

views as (
    select * from {{ ref("int_deployment_views_by_person") }}
),

users as (
    select * from {{ ref("users") }}
),

joined as (
    select
        views.deployment_name,
        views.deployment_type,
        views.person_id,
        users.user_id,
        {{ users_traits("users", {"user_name": "name", "user_email": "email"}) }},
        views.view_count,
        views.first_viewed_at,
        views.last_viewed_at
    from views
    left join users on views.user_id = users.user_id
)

select * from joined
