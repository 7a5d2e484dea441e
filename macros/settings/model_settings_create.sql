{% macro model_settings_create() -%}
    {#-
        on-run-start: check every var (segment_settings() stops the run before any
        model writes), create <target>_ops.model_settings when missing, and say
        which selected incremental models this run rebuilds in full because their
        rows were built with other settings (should_full_refresh() decides, model by
        model).
    -#}
    {%- do segment_settings() -%}
    {%- set store = model_settings_relation() -%}
    {%- if execute and not flags.FULL_REFRESH
        and adapter.get_relation(store.database, store.schema, store.identifier) -%}
        {%- set recorded = {} -%}
        {%- set query -%}
            select model_name, settings::text from {{ store }}
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- do recorded.update({row[0]: fromjson(row[1])}) -%}
        {%- endfor -%}
        {%- set rebuilt = {} -%}
        {%- for node in graph.nodes.values()
            if node.unique_id in selected_resources
            and node.resource_type == "model"
            and node.config.materialized in ("incremental", "change_driven")
            and node.alias in recorded -%}
            {%- set changes = model_settings_difference(
                recorded[node.alias],
                segment_history_settings(node),
            ) -%}
            {%- if changes | length > 0 -%}
                {%- do rebuilt.update({node.alias: changes | join("; ")}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for reason in rebuilt.values() | unique -%}
            {%- set names = [] -%}
            {%- for name, why in rebuilt.items() | sort if why == reason -%}
                {%- do names.append(name) -%}
            {%- endfor -%}
            {%- do log(
                "segment_reports: settings changed since the last build (" ~ reason
                ~ "): rebuilding in full: " ~ names | join(", "),
                info=True,
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    create schema if not exists {{ adapter.quote(store.schema) }};
    create table if not exists {{ store }} (
        model_name text primary key,
        settings jsonb not null,
        recorded_at timestamptz not null
    )
{%- endmacro %}
