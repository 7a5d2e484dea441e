{{ config(indexes=[{"columns": ["event_month"], "unique": True}]) }}

{#- The seed report "deployments created per month". -#}

{{
    event_report(
        "deployments_new",
        per="month",
        count_as="deployments_created",
        persons_as="creators",
    )
}}
