{% macro segment_normalize_type(data_type) %}
    {#-
        One spelling per type, so that types read from the catalog (format_type) and
        types written in models compare equal: every string type is text (Segment's
        ids are varchar(1024); staging never truncates) and numeric(p, s) is numeric.
    -#}
    {%- set t = data_type | trim | lower -%}
    {%- set aliases = {
        "timestamptz": "timestamp with time zone",
        "timestamp": "timestamp without time zone",
        "int8": "bigint",
        "int4": "integer",
        "int": "integer",
        "int2": "smallint",
        "float8": "double precision",
        "float4": "real",
        "bool": "boolean",
        "varchar": "text",
        "name": "text",
    } -%}
    {%- if t.endswith("[]") -%}
        {{ return(t) }}
    {%- elif t in aliases -%}
        {{ return(aliases[t]) }}
    {%- elif t.startswith("character") or t.startswith("varchar") -%}
        {{ return("text") }}
    {%- elif t.startswith("numeric") or t.startswith("decimal") -%}
        {{ return("numeric") }}
    {%- endif -%}
    {{ return(t) }}
{% endmacro %}
