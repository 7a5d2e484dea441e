{% macro segment_classified_catalog() %}
    {#-
        segment_catalog() entries, each with "use" and "reason":
        - "default": one of Segment's default tables (tracks, pages, ...);
        - "event": an event table: any other table with Segment's call envelope
          with Segment's types (id and event a string type, received_at and uuid_ts
          timestamps) whose rows name it in their event column;
        - "ignored": everything else, with the reason in words: views, tables lacking
          envelope columns or with other types (imports by other tools), copies of
          tracks (a sample of rows whose event column never names the table).
        A default table is read as long as its id is a string and the timestamps it
        has are timestamps. One odd table never fails a run: it is ignored, logged
        (segment_log_ignored_tables()) and listed in <target>_ops.ignored_tables.
    -#}
    {%- set defaults = segment_default_tables() -%}
    {%- set strings = ["text", "character varying", "character", "varchar"] -%}
    {%- set timestamps = ["timestamp with time zone", "timestamp without time zone"] -%}
    {%- set expected = {
        "id": ("a string", strings),
        "event": ("a string", strings),
        "received_at": ("a timestamp", timestamps),
        "uuid_ts": ("a timestamp", timestamps),
    } -%}
    {%- set classified = [] -%}
    {%- set candidates = [] -%}
    {%- for relation in segment_catalog() -%}
        {%- set types = {} -%}
        {%- for name, data_type in relation.columns -%}
            {%- do types.update({name: segment_base_type(data_type)}) -%}
        {%- endfor -%}
        {%- set is_default = relation.table in defaults -%}
        {%- set required = (
            ["id"] if is_default else ["id", "received_at", "uuid_ts", "event"]
        ) -%}
        {%- set missing = required | reject("in", types) | list -%}
        {%- set mistyped = [] -%}
        {%- for name, rule in expected.items()
            if name in types and types[name] not in rule[1]
            and (name != "event" or not is_default or relation.table == "tracks") -%}
            {%- do mistyped.append(name ~ " is " ~ types[name] ~ ", not " ~ rule[0]) -%}
        {%- endfor -%}
        {%- set entry = {} -%}
        {%- do entry.update(relation) -%}
        {%- if relation.kind not in ["r", "p", "f"] -%}
            {%- do entry.update({"use": "ignored", "reason": (
                "a view, not a table" if relation.kind == "v"
                else "a materialized view, not a table"
            )}) -%}
        {%- elif missing | length > 0 -%}
            {%- do entry.update({"use": "ignored", "reason":
                ("a Segment table without " if is_default
                    else "not a Segment event table (no ")
                ~ missing | join(", ") ~ " column"
                ~ ("s" if missing | length > 1 else "")
                ~ ("" if is_default else ")")
            }) -%}
        {%- elif mistyped | length > 0 -%}
            {%- do entry.update({"use": "ignored", "reason":
                "not a Segment " ~ ("table" if is_default else "event table")
                ~ " (" ~ mistyped | join("; ") ~ ": written by another tool?)"
            }) -%}
        {%- elif is_default -%}
            {%- do entry.update({"use": "default", "reason": none}) -%}
        {%- else -%}
            {%- do entry.update({"use": "event", "reason": none}) -%}
            {%- do candidates.append(entry) -%}
        {%- endif -%}
        {%- do classified.append(entry) -%}
    {%- endfor -%}
    {%- if execute and candidates | length > 0 -%}
        {%- set samples = [] -%}
        {%- for entry in candidates -%}
            {%- set relation = api.Relation.create(
                database=target.database, schema=entry.schema, identifier=entry.table
            ) -%}
            {%- do samples.append(
                "select " ~ loop.index0 ~ " as position, count(*) as sampled, "
                ~ "count(*) filter (where lower(sample.event) = lower("
                ~ segment_string_literal(entry.table) ~ ")) as naming_it "
                ~ "from (select event from " ~ relation
                ~ " where event is not null limit 100) as sample"
            ) -%}
        {%- endfor -%}
        {%- for row in run_query(samples | join("\nunion all\n")).rows -%}
            {%- if row[1] > 0 and row[2] == 0 -%}
                {%- do candidates[row[0]].update({"use": "ignored", "reason":
                    "its rows' event column names other events, not this table "
                    ~ "(a copy of tracks?)"
                }) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(classified) }}
{% endmacro %}
