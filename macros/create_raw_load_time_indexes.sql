{% macro create_raw_load_time_indexes() %}
    {#-
        run-operation for large warehouses: a BRIN index on uuid_ts of every raw call
        table (the default tables and the event tables) in var('segment_schemas'),
        so that incremental staging reads only newly loaded rows instead of scanning
        whole raw tables. BRIN indexes are tiny (kilobytes per million rows) and cost
        Segment's appends next to nothing; Segment creates no index of its own.
        Must run as the owner of the raw tables (the loader). Idempotent.
    -#}
    {%- set kinds = [
        "event_tables", "tracks", "pages", "screens", "identifies", "aliases", "groups"
    ] -%}
    {%- set created = [] -%}
    {%- for kind in kinds -%}
        {%- for entry in segment_relations(kind) if entry.kind in ["r", "p"] -%}
            {%- if "uuid_ts" in (entry.columns | map(attribute=0) | list) -%}
                {%- set relation = api.Relation.create(
                    database=target.database,
                    schema=entry.schema,
                    identifier=entry.table,
                ) -%}
                {%- set index_name = (entry.table ~ "_uuid_ts_brin")[:63] -%}
                {%- do run_query(
                    "create index if not exists " ~ adapter.quote(index_name)
                    ~ " on " ~ relation ~ " using brin (uuid_ts)"
                ) -%}
                {%- do created.append(entry.schema ~ "." ~ entry.table) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do log(
        "BRIN index on uuid_ts present on " ~ (created | length) ~ " tables: "
        ~ (created | join(", ")),
        info=True,
    ) -%}
{% endmacro %}
