{% macro segment_default_tables() %}
    {#- The tables Segment creates in every source schema besides the event tables. -#}
    {{ return([
        "tracks", "pages", "screens", "identifies", "groups", "aliases", "users",
        "accounts",
    ]) }}
{% endmacro %}
