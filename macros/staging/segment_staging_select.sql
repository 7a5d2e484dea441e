{% macro segment_staging_select(
    relations, columns, key, keep="first", device_key=false
) %}
    {#-
        The whole select of a staging model, from one list of its output columns:
        source (segment_union_relations() over relations, reading every raw column the
        list names) -> renamed (the list, in order) -> deduplicated (one row per
        (source_schema, key)) [-> with_device_key].

        columns, in output order; each entry is one of:
        - a name from segment_staging_columns() ("event_id", "anonymous_id",
          "occurred_at", ...): a column every call table shares;
        - [raw, type] or [raw, type, output]: a raw column read as type, renamed;
        - a dict: name (output), from (raw column, read as type), type (default
          text), sql (an expression over the raw columns, source_schema and
          source_table; default the from column), identity (true: junk ids nulled
          by segment_clean_id()), reads ([raw, type] pairs sql needs besides from),
          tie_break (false for a column computed from other columns);
        - {"other_columns": "columns", "prefix": ..., "exclude": [...]}: one column
          per other column of the relations (segment_extra_columns(), prefix for
          names the list already uses, default trait_);
        - {"name": ..., "other_columns": "jsonb", "exclude": [...]}: a jsonb object
          of the other columns (segment_properties_object()).
        The other columns are those of neither the envelope
        (segment_envelope_columns()) nor the list nor exclude nor context_*.

        keep="first" keeps the first-loaded copy of a key (lowest loaded_at, then
        received_at), skips keys already in {{ this }} on an incremental run and reads
        raw rows above segment_load_watermarks(); keep="latest" keeps the last-loaded
        copy (tables Segment updates in place; never an append-only model). Either
        way every other column of the list, in list order, breaks ties, so the kept
        copy never depends on the order rows were loaded in. device_key adds
        coalesce(anonymous_id, 'user:' || user_id) as a last column.
    -#}
    {%- set plan = segment_staging_plan(
        relations, columns, key, keep, device_key
    ) -%}
    {#- keep="latest" models are tables: never incremental (nor asked, which unit
        tests of a table model could not answer). -#}
    {%- set incremental = keep == "first" and is_incremental() -%}
    with

    source as (
        {{- segment_union_relations(
            relations,
            plan.union_columns,
            plan.properties,
            segment_load_watermarks() if incremental else {},
        ) }}
    ),

    renamed as (
        select
            {{ plan.selected | join(",\n            ") }}
        from source
    ),

    deduplicated as (
        select distinct on (source_schema, {{ plan.key }}) *
        from renamed
        where
            {{ plan.key }} is not null
            {% if incremental %}
            and not exists (
                select 1
                from {{ this }} as already_staged
                where
                    renamed.source_schema = already_staged.source_schema
                    and renamed.{{ plan.key }} = already_staged.{{ plan.key }}
            )
            {% endif %}
        order by
            {{ plan.order_by | join(",\n            ") }}
    )
    {%- if device_key %},

    with_device_key as (
        select
            *,
            coalesce(anonymous_id, 'user:' || user_id) as device_key
        from deduplicated
    )

    select * from with_device_key
    {%- else %}

    select * from deduplicated
    {%- endif %}
{% endmacro %}
