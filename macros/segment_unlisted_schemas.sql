{% macro segment_unlisted_schemas() %}
    {#-
        Schemas of the database that hold Segment's call tables (tracks, pages,
        screens or identifies with an id and a uuid_ts column) but are not in
        var('segment_schemas'), sorted; [] while dbt parses.
    -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select coalesce(json_agg(distinct n.nspname order by n.nspname), '[]')::text
        from pg_catalog.pg_class as c
        inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
        where
            c.relname in ('tracks', 'pages', 'screens', 'identifies')
            and c.relkind in ('r', 'p', 'f')
            and n.nspname <> all({{ segment_schema_array() }})
            and exists (
                select from pg_catalog.pg_attribute as a
                where a.attrelid = c.oid and a.attname = 'id' and not a.attisdropped
            )
            and exists (
                select from pg_catalog.pg_attribute as a
                where a.attrelid = c.oid and a.attname = 'uuid_ts' and not a.attisdropped
            )
    {%- endset -%}
    {{ return(fromjson(run_query(query).columns[0].values()[0])) }}
{% endmacro %}
