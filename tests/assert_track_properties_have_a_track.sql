-- Every call found in an event table is also in stg_segment__tracks (which reads the
-- event tables too), so models joining properties to tracks never lose a call.
with

track_properties as (
    select * from {{ ref("stg_segment__track_properties") }}
),

tracks as (
    select * from {{ ref("stg_segment__tracks") }}
),

calls_without_track as (
    select
        track_properties.source_schema,
        track_properties.event_id,
        track_properties.event_name
    from track_properties
    left join tracks
        on
            track_properties.source_schema = tracks.source_schema
            and track_properties.event_id = tracks.event_id
    where tracks.event_id is null
)

select * from calls_without_track
