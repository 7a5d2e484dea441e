{% macro segment_catalog() %}
    {#-
        Every table and view of the schemas in var('segment_schemas'), with its columns
        and their types, read from pg_catalog when the model runs:
        [{"schema", "table", "kind" (pg_class.relkind), "columns": [[name, type], ...]}],
        in var order, then by table name. A schema that does not exist stops the run.
        Returns [] while dbt parses (no database).
    -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        with requested as (
            select schema_name, position
            from
                unnest({{ segment_schema_array() }})
                with ordinality as requested (schema_name, position)
        ),

        relations as (
            select
                requested.position,
                n.nspname as schema_name,
                c.relname as table_name,
                c.relkind as kind,
                json_agg(
                    json_build_array(a.attname, format_type(a.atttypid, a.atttypmod))
                    order by a.attnum
                ) as columns
            from requested
            inner join pg_catalog.pg_namespace as n on requested.schema_name = n.nspname
            inner join pg_catalog.pg_class as c on n.oid = c.relnamespace
            inner join pg_catalog.pg_attribute as a on c.oid = a.attrelid
            where
                c.relkind in ('r', 'p', 'f', 'v', 'm')
                and a.attnum > 0
                and not a.attisdropped
            group by 1, 2, 3, 4
        )

        select json_build_object(
            'missing', (
                select coalesce(json_agg(schema_name order by position), '[]')
                from requested
                where not exists (
                    select from pg_catalog.pg_namespace
                    where nspname = requested.schema_name
                )
            ),
            'candidates', (
                select coalesce(json_agg(distinct n.nspname), '[]')
                from pg_catalog.pg_class as c
                inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
                where c.relname in ('tracks', 'pages', 'screens', 'identifies')
            ),
            'tables', (
                select coalesce(json_agg(json_build_object(
                    'schema', schema_name,
                    'table', table_name,
                    'kind', kind,
                    'columns', columns
                ) order by position, table_name collate "C"), '[]')
                from relations
            )
        )::text
    {%- endset -%}
    {%- set catalog = fromjson(run_query(query).columns[0].values()[0]) -%}
    {%- if catalog.missing | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            "var('segment_schemas') lists schema(s) that do not exist in database "
            ~ target.dbname ~ ": " ~ catalog.missing | join(", ")
            ~ ". Set segment_schemas in dbt_project.yml (or pass --vars "
            ~ "'{segment_schemas: [...]}') to the schemas Segment writes to, one per "
            ~ "source. Schemas here that hold Segment tables: "
            ~ (catalog.candidates | join(", ") or "none") ~ "."
        ) }}
    {%- endif -%}
    {{ return(catalog.tables) }}
{% endmacro %}
