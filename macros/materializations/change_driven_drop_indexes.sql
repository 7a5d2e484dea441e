{% macro change_driven_drop_indexes(relation) -%}
    {#-
        SQL dropping the indexes of `relation` that no constraint owns (those the
        model's `indexes` config created), before it is reloaded in full.
    -#}
    {%- set query -%}
        select quote_ident(index_class.relname)
        from pg_index as pg_index_row
        inner join pg_class as index_class on pg_index_row.indexrelid = index_class.oid
        inner join pg_class as table_class on pg_index_row.indrelid = table_class.oid
        inner join pg_namespace as namespace on table_class.relnamespace = namespace.oid
        where
            namespace.nspname = {{ segment_string_literal(relation.schema) }}
            and table_class.relname = {{ segment_string_literal(relation.identifier) }}
            and not exists (
                select 1 from pg_constraint
                where pg_constraint.conindid = pg_index_row.indexrelid
            )
    {%- endset -%}
    {%- for row in run_query(query).rows %}
        drop index {{ adapter.quote(relation.schema) }}.{{ row[0] }};
    {%- endfor %}
{%- endmacro %}
