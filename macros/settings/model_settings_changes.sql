{% macro model_settings_changes() %}
    {#-
        For the incremental model being built: model_settings_difference() between
        the settings recorded with its existing rows and the current ones; [] when
        it has no rows yet (nothing to rebuild) or is not incremental. Read once
        per model run, before the run records its own settings (run_state_memo()).
    -#}
    {%- set incremental = ["incremental", "change_driven"] -%}
    {%- if not execute or model.config.materialized not in incremental -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set memo = run_state_memo() -%}
    {%- if "settings_changes" in memo -%}
        {{ return(memo["settings_changes"]) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(
        this.database, this.schema, this.identifier
    ) -%}
    {%- set changes = [] -%}
    {%- if existing is not none -%}
        {%- set store = model_settings_relation() -%}
        {%- set recorded = none -%}
        {%- if adapter.get_relation(store.database, store.schema, store.identifier) -%}
            {%- set query -%}
                select settings::text from {{ store }}
                where model_name = {{ segment_string_literal(this.identifier) }}
            {%- endset -%}
            {%- set rows = run_query(query).rows -%}
            {%- if rows | length > 0 -%}
                {%- set recorded = fromjson(rows[0][0]) -%}
            {%- endif -%}
        {%- endif -%}
        {%- set changes = model_settings_difference(
            recorded, segment_history_settings()
        ) -%}
    {%- endif -%}
    {%- do memo.update({"settings_changes": changes}) -%}
    {{ return(changes) }}
{% endmacro %}
