{{
    config(
        materialized="change_driven",
        recompute_by=["person_id"],
        nullable_keys=["person_id"],
        changed_keys=[
            {
                "log": "int_events",
                "select": {"person_id": "person_id"},
                "where": "event_name = 'deployments_show'",
            },
            {"log": "users", "select": {"person_id": "user_id"}},
        ],
        change_logs=["int_events", "users"],
        indexes=[{"columns": ["person_id"]}, {"columns": ["deployment_name"]}],
    )
}}

{#-
    The seed report "views of a deployment joined to the user who viewed it". An
    incremental run rebuilds the rows of the persons whose deployments_show events
    or users row changed.
-#}

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
