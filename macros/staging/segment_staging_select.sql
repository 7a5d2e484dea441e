{% macro segment_staging_select(
    relations, columns, key, keep="first", device_key=false
) %}
    {#-
        The whole select of a staging model, from one list of its output columns:
        source (segment_union_relations() over relations, reading every raw column the
        list names) -> renamed (the list, in order) -> window_rows (plus, on an
        incremental run, the keys this table holds from the lookback window) ->
        first_in_window (one row per (source_schema, key), a stored key first) ->
        deduplicated (the raw rows whose key is in neither the window nor the
        table) [-> with_device_key].

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
    {%- set watermarks = segment_load_watermarks() if incremental else {} -%}
    {%- set staged_columns = [] -%}
    {%- set kept_columns = [] -%}
    {%- for name in plan.names -%}
        {%- do staged_columns.append(
            "staged_in_window." ~ name if name in ["source_schema", plan.key]
            else "null"
        ) -%}
        {%- do kept_columns.append("first_in_window." ~ name) -%}
    {%- endfor -%}
    {%- set in_window = [] -%}
    {%- for schema_name, bound in watermarks.items() -%}
        {%- do in_window.append(
            "(staged_in_window.source_schema = " ~ segment_string_literal(schema_name)
            ~ " and staged_in_window.loaded_at >= " ~ bound ~ ")"
        ) -%}
    {%- endfor -%}
    {%- set window_filter = in_window | join(" or ") or "false" -%}
    with

    source as (
        {{- segment_union_relations(
            relations, plan.union_columns, plan.properties, watermarks
        ) }}
    ),

    renamed as (
        select
            {{ plan.selected | join(",\n            ") }}
        from source
    ),

    window_rows as (
        -- the raw rows read and, on an incremental run, keys only, this table's
        -- own rows of the lookback window (one (source_schema, loaded_at) index
        -- range per schema): sorted first within their key, a key staged before
        -- drops out in the sort that deduplicates, so that only keys new to the
        -- window probe the whole table's unique index
        select
            renamed.*,
            false as staged_before
        from renamed
        where renamed.{{ plan.key }} is not null
        {% if incremental %}
        union all
        select
            {{ staged_columns | join(",\n            ") }},
            true as staged_before
        from {{ this }} as staged_in_window
        where {{ window_filter }}
    {% endif %}
    ),

    first_in_window as (
        select distinct on (source_schema, {{ plan.key }}) *
        from window_rows
        order by
            {{ (plan.order_by[:2] + ["staged_before desc"] + plan.order_by[2:])
                | join(",\n            ") }}
    ),

    deduplicated as (
        select
            {{ kept_columns | join(",\n            ") }}
        from first_in_window
        {% if incremental %}
        -- one unique-index probe per key new to the window (offset 0: never
        -- a join that reads the whole table), for an id staged long ago
        left join lateral (
            select true as found
            from {{ this }} as already_staged
            where
                first_in_window.source_schema = already_staged.source_schema
                and first_in_window.{{ plan.key }}
                = already_staged.{{ plan.key }}
            offset 0
        ) as staged_earlier on true
        {% endif %}
        where
            not first_in_window.staged_before
            {% if incremental %}
            and staged_earlier.found is null
            {% endif %}
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
