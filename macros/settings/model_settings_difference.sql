{% macro model_settings_difference(recorded, current) %}
    {#-
        What changed between a model's recorded settings and the current ones, as
        "name: old -> new" strings; [] when its rows are still right. Adding a source
        schema is not a change (its rows are new rows); removing one is. recorded
        none (a build from before settings were recorded) counts as a change.
    -#}
    {%- set changes = [] -%}
    {%- if recorded is none -%}
        {%- do changes.append("no settings recorded with the existing rows") -%}
    {%- else -%}
        {%- for name, value in current.items() -%}
            {%- set old = recorded.get(name) -%}
            {%- set removed = (old or []) | reject("in", value) | list
                if name == "segment_schemas" else [] -%}
            {%- if removed | length > 0 -%}
                {%- do changes.append(
                    "segment_schemas no longer lists " ~ removed | join(", ")
                ) -%}
            {%- elif name != "segment_schemas" and old != value -%}
                {%- do changes.append(
                    name ~ ": " ~ tojson(old) ~ " -> " ~ tojson(value)
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(changes) }}
{% endmacro %}
