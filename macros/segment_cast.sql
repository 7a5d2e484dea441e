{% macro segment_cast(column, from_type, to_type) -%}
    {#-
        SQL that reads column (of catalog type from_type) as to_type without ever
        failing the query:
        - timestamps without time zone are read as UTC, never in the session's zone;
        - numbers convert among themselves; anything converts to text (a
          timestamptz as its UTC text, '2024-03-01 10:00:00+00', whatever the
          session's zone);
        - text converts through segment_try_cast() (a value it cannot parse
          becomes null; <target>_ops.uncastable_values lists such values);
        - any other pair (bigint to timestamptz, ...) becomes null.
        Never used for columns whose types already match.
    -#}
    {%- set source = segment_normalize_type(segment_base_type(from_type)) -%}
    {%- set wanted = segment_normalize_type(to_type) -%}
    {%- set numbers = [
        "smallint", "integer", "bigint", "numeric", "real", "double precision",
    ] -%}
    {%- set timestamps = ["timestamp with time zone", "timestamp without time zone"] -%}
    {%- if source == wanted -%}
        {{ column }}
    {%- elif source == "timestamp without time zone"
        and wanted == "timestamp with time zone" -%}
        ({{ column }} at time zone 'UTC')
    {%- elif wanted == "text" and source == timestamps[0] -%}
        (({{ column }} at time zone 'UTC')::text || '+00')
    {%- elif wanted == "text" or (source in numbers and wanted in numbers) -%}
        {{ column }}::{{ wanted }}
    {%- elif source == "text" and wanted in segment_try_cast_types() -%}
        {{ segment_try_cast(column, wanted) }}
    {%- else -%}
        null::{{ wanted }}
    {%- endif -%}
{%- endmacro %}
