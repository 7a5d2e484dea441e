{{
    config(
        materialized="change_driven",
        recompute_by=["person_id"],
        nullable_keys=["person_id"],
        changed_keys=[{
            "log": "int_events",
            "select": {"person_id": "person_id"},
            "where": "event_name = 'deployments_show'",
        }],
        change_logs=["int_events"],
        unique_key=["deployment_name", "person_id"],
        indexes=[{"columns": ["person_id"]}, {"columns": ["deployment_name"]}],
    )
}}

{#-
    The counts of the seed report "views of a deployment joined to the user who
    viewed it", per deployment and person; deployment_views_by_user joins the
    users' name and email. An incremental run updates the rows of the persons
    whose deployments_show events changed: by the added views when they only
    gained views later than those counted, else by counting them again
    (event_report_per_person()).
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
    )
}}
