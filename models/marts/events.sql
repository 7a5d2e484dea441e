{{ config(materialized="view") }}

{#- The sessionized events, maintained incrementally in int_events. -#}

select
    event_id,
    source_schema,
    event_type,
    event_name,
    event_text,
    anonymous_id,
    user_id,
    resolved_user_id,
    person_id,
    device_key,
    session_id,
    page_url,
    page_path,
    referrer,
    utm_source,
    utm_medium,
    utm_campaign,
    properties,
    activity_date,
    occurred_at,
    received_at,
    loaded_at
from {{ ref("int_events") }}
