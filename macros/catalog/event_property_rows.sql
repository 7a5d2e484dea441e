{% macro event_property_rows(since) %}
    {#-
        SQL: the staged calls that carry event properties, staged after `since`
        (a timestamptz literal), as (source_schema, event_name, properties,
        received_at, staged_at): track calls' event-table rows
        (stg_segment__track_properties), pages as page_view and screens as
        screen_view, each with its `properties` jsonb (the table's columns that are
        not Segment's envelope, context or, for pages, the page's own fields; nulls
        removed).
    -#}
    {%- set sources = [
        ("stg_segment__track_properties", "event_name"),
        ("stg_segment__pages", "'page_view'"),
        ("stg_segment__screens", "'screen_view'"),
    ] %}
    {%- set selects = [] %}
    {%- for model_name, event_name in sources %}
        {%- do selects.append(
            "select source_schema, " ~ event_name ~ " as event_name, properties, "
            ~ "received_at, staged_at from " ~ ref(model_name)
            ~ " where staged_at > " ~ since
        ) %}
    {%- endfor %}
    {{ selects | join("\nunion all\n") }}
{% endmacro %}

{% macro event_property_since() %}
    {#-
        The bound for event_property_rows() in an additive model (one that adds
        new rows' counts to the stored ones): run_state_since(), unless a staging
        model it reads was rebuilt after that run (its oldest staged_at is later),
        when every staged row is new again and the model recounts everything
        ('-infinity').
    -#}
    {%- set since = run_state_since() -%}
    {%- if not execute or "infinity" in since -%}
        {{ return(since) }}
    {%- endif -%}
    {%- set checks = [] -%}
    {%- for name in [
        "stg_segment__track_properties", "stg_segment__pages", "stg_segment__screens",
    ] -%}
        {%- do checks.append(
            "(select min(staged_at) from " ~ ref(name) ~ ") > " ~ since
        ) -%}
    {%- endfor -%}
    {%- set rebuilt = run_query(
        "select coalesce(" ~ checks | join(" or ") ~ ", false)"
    ).columns[0].values()[0] -%}
    {{ return("'-infinity'::timestamptz" if rebuilt else since) }}
{% endmacro %}
