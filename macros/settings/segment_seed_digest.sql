{% macro segment_seed_digest(name) %}
    {#-
        An md5 of the rows of this project's seed `name` as loaded in the warehouse
        (every row as text, sorted), so it changes exactly when what the models
        read changes, even when a run loaded the seed's file without selecting
        them; none outside a run or before the seed is loaded.
    -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set seeds = graph.nodes.values()
        | selectattr("resource_type", "equalto", "seed")
        | selectattr("package_name", "equalto", project_name)
        | selectattr("name", "equalto", name) | list -%}
    {%- if seeds | length == 0 -%}
        {{ exceptions.raise_compiler_error("no seed named " ~ name ~ " in seeds/") }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(
        seeds[0].database, seeds[0].schema, seeds[0].alias
    ) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select md5(coalesce(
            string_agg(seed_row::text, e'\n' order by seed_row::text), ''
        ))
        from {{ relation }} as seed_row
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0]) }}
{% endmacro %}
