{% macro model_settings_record() -%}
    {#-
        post-hook of every model: for an incremental model, record the settings its
        rows were built with. It runs inside the model's transaction, so the record
        and the rows commit together.
    -#}
    {%- if model.config.materialized in ("incremental", "change_driven") -%}
        insert into {{ model_settings_relation() }} as recorded (
            model_name, settings, recorded_at
        )
        values (
            {{ segment_string_literal(this.identifier) }},
            {{ segment_string_literal(tojson(
                segment_history_settings()
            )) }}::jsonb,
            clock_timestamp()
        )
        on conflict (model_name) do update
        set
            settings = excluded.settings,
            recorded_at = excluded.recorded_at
    {%- endif -%}
{%- endmacro %}
