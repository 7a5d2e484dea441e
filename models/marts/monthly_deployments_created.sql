{{ config(materialized="view") }}

{#-
    The seed report "deployments created per month": the deployments_new rows of
    monthly_event_counts, which incremental runs keep by difference.
-#}

{{
    event_report(
        "deployments_new",
        per="month",
        count_as="deployments_created",
        persons_as="creators",
    )
}}
