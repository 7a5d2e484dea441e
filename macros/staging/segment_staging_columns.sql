{% macro segment_staging_columns() %}
    {#-
        The staged columns every call table shares, by output name, as the column specs
        segment_staging_select() takes: what a staging model lists by name alone. Their
        raw columns and types are segment_envelope_columns().
    -#}
    {%- set raw_types = {} -%}
    {%- for name, data_type in segment_envelope_columns() -%}
        {%- do raw_types.update({name: data_type}) -%}
    {%- endfor -%}
    {%- set columns = {
        "message_id": {"from": "id"},
        "event_id": {"from": "id"},
        "source_schema": {"sql": "source_schema"},
        "anonymous_id": {"from": "anonymous_id", "identity": true},
        "user_id": {"from": "user_id", "identity": true},
        "occurred_at": {
            "type": "timestamptz",
            "sql": segment_occurred_at(),
            "reads": [
                ["timestamp", raw_types["timestamp"]],
                ["received_at", raw_types["received_at"]],
                ["uuid_ts", raw_types["uuid_ts"]],
            ],
            "tie_break": false,
        },
        "event_timestamp": {"from": "timestamp"},
        "sent_at": {"from": "sent_at"},
        "original_timestamp": {"from": "original_timestamp"},
        "received_at": {"from": "received_at"},
        "loaded_at": {"from": "uuid_ts"},
        "staged_at": {
            "type": "timestamptz", "sql": segment_staged_at(), "tie_break": false,
        },
    } -%}
    {%- for name, spec in columns.items() -%}
        {%- do spec.update({"name": name}) -%}
        {%- if spec.get("from") -%}
            {%- do spec.update({"type": raw_types[spec["from"]]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}
