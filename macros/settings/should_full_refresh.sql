{% macro should_full_refresh() %}
    {#-
        dbt's rule (the model's full_refresh config, else --full-refresh), plus: an
        incremental model whose existing rows were built with other settings
        (model_settings_changes()) is rebuilt in full, by itself, in the run that
        first sees the change. A model configured with full_refresh: false stops
        instead, before writing anything, naming the command that rebuilds it.
    -#}
    {%- set configured = config.get("full_refresh") -%}
    {%- set wanted = flags.FULL_REFRESH if configured is none else configured -%}
    {%- if wanted or not execute -%}
        {{ return(wanted) }}
    {%- endif -%}
    {%- set changes = model_settings_changes() -%}
    {%- if changes | length > 0 and configured is sameas false -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ " was built with other settings (" ~ changes | join("; ")
            ~ ") and its config says full_refresh: false. Rebuild it with "
            ~ "'segment-reports run --full-refresh --select " ~ this.identifier ~ "+'."
        ) }}
    {%- endif -%}
    {{ return(changes | length > 0) }}
{% endmacro %}
