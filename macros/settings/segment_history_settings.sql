{% macro segment_history_settings(node=model) %}
    {#-
        The settings that decide what a model's existing rows hold, as a dict to
        record with the model (model_settings_record()) and compare on the next run
        (model_settings_changes()). Staging depends on the junk id values and the
        source schemas; every later layer also on the session timeout and the
        excluded user ids. A model configured with `channel_rules: true` (its rows
        hold channels, README "For analysts", channels) also on internal_domains and
        the rows of the referrer_domains seed (segment_seed_digest()), so editing
        either reclassifies them. A model configured with `funnel_rules: true` (its
        rows hold funnel steps) also on funnel_window_hours and the rows of the
        funnels seed, so editing a funnel rebuilds them. incremental_lookback_hours is absent: it changes which
        raw rows a run re-reads, never a result.
    -#}
    {%- set settings = segment_settings() -%}
    {%- set ignored = [] -%}
    {%- for value in settings.identity_ignore_values | map("trim") | map("lower") -%}
        {%- if value not in ignored -%}
            {%- do ignored.append(value) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set recorded = {
        "segment_schemas": settings.segment_schemas | sort,
        "identity_ignore_values": ignored | sort,
    } -%}
    {%- if model_settings_layer(node) != "staging" -%}
        {%- do recorded.update({
            "session_timeout_minutes": settings.session_timeout_minutes | int,
            "excluded_user_ids": settings.excluded_user_ids | unique | sort,
        }) -%}
    {%- endif -%}
    {%- if node.config.get("channel_rules") -%}
        {%- do recorded.update({
            "internal_domains": settings.internal_domains | sort,
            "referrer_domains": segment_seed_digest("referrer_domains"),
        }) -%}
    {%- endif -%}
    {%- if node.config.get("funnel_rules") -%}
        {%- do recorded.update({
            "funnel_window_hours": settings.funnel_window_hours,
            "funnels": segment_seed_digest("funnels"),
        }) -%}
    {%- endif -%}
    {{ return(recorded) }}
{% endmacro %}
