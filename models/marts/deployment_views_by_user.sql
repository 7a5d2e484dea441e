{{ config(indexes=[{"columns": ["person_id"]}, {"columns": ["deployment_name"]}]) }}

{#- The seed report "views of a deployment joined to the user who viewed it". -#}

{{
    event_report(
        "deployments_show",
        per="person",
        group_by=["deployment_name"],
        latest=["deployment_type"],
        count_as="view_count",
        first_as="first_viewed_at",
        last_as="last_viewed_at",
        user_traits={"user_name": "name", "user_email": "email"},
    )
}}
