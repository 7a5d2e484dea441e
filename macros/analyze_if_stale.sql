{% macro analyze_if_stale(relation=this) %}
    {#-
        A post-hook: analyze relation when it has no column statistics yet (a new
        or rebuilt table, which the next model reads at once) or when a tenth of its
        rows changed since its last analyze in earlier runs (as autovacuum would;
        this also covers servers with autovacuum off). An append of one more day
        to a big table then skips an analyze that samples 30,000 random pages of it
        every run; the planner reads the range of an indexed column such as
        staged_at from the index itself, so reads past the last run still plan
        with the new rows.
    -#}
    {%- if not execute -%}
        {{ return("") }}
    {%- endif -%}
    {%- set query -%}
        select
            not exists (
                select 1 from pg_catalog.pg_stats
                where
                    schemaname = {{ segment_string_literal(relation.schema) }}
                    and tablename = {{ segment_string_literal(relation.identifier) }}
            )
            or coalesce((
                select
                    stats.n_mod_since_analyze
                    > 0.1 * greatest(tables.reltuples, 0) + 50
                from pg_catalog.pg_stat_user_tables as stats
                inner join pg_catalog.pg_class as tables on stats.relid = tables.oid
                where stats.relid = {{ segment_string_literal(relation) }}::regclass
            ), false)
    {%- endset -%}
    {%- if run_query(query).columns[0].values()[0] -%}
        {{ return("analyze " ~ relation) }}
    {%- endif -%}
    {{ return("") }}
{% endmacro %}
