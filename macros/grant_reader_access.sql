{% macro grant_reader_access() -%}
    {#-
        on-run-end: USAGE on each analytics schema and SELECT on every table and
        view in it for its reader roles (reader_roles()) that setup-roles has set
        up, where missing. This covers what the model post-hooks do not: a schema
        this run created, seeds and the run-state tables. Schema grants run here,
        in one thread, because concurrent GRANTs on one schema fail with "tuple
        concurrently updated". Objects the dbt user may not grant on (another
        role's) are left to setup-roles.
    -#}
    {%- set pairs = [] -%}
    {%- for schema_name, readers in reader_roles().items() -%}
        {%- for reader in readers -%}
            {%- do pairs.append(
                "(" ~ segment_string_literal(schema_name) ~ ", "
                ~ segment_string_literal(reader) ~ ")"
            ) -%}
        {%- endfor -%}
    {%- endfor -%}
    do $grant$
    declare
        grant_sql text;
    begin
        for grant_sql in
            with readers as (
                select
                    schema_ns.oid as schema_oid,
                    schema_ns.nspname as schema_name,
                    schema_ns.nspowner as schema_owner,
                    schema_ns.nspacl,
                    reader_role.oid as role_oid,
                    reader_role.rolname as role_name
                from (values {{ pairs | join(", ") }}) as wanted (schema_name, role_name)
                inner join pg_namespace as schema_ns
                    on wanted.schema_name = schema_ns.nspname
                inner join pg_roles as reader_role
                    on wanted.role_name = reader_role.rolname
                where {{ reader_roles_ready("reader_role") }}
            ),

            schema_grants as (
                select
                    1 as step,
                    format(
                        'grant usage on schema %I to %I', schema_name, role_name
                    ) as statement
                from readers
                where
                    pg_has_role(schema_owner, 'USAGE')
                    and not exists (
                        select 1 from aclexplode(readers.nspacl) as schema_acl
                        where
                            schema_acl.grantee = readers.role_oid
                            and schema_acl.privilege_type = 'USAGE'
                    )
            ),

            table_grants as (
                select
                    2 as step,
                    format(
                        'grant select on %I.%I to %I',
                        readers.schema_name,
                        rel.relname,
                        readers.role_name
                    ) as statement
                from readers
                inner join pg_class as rel
                    on readers.schema_oid = rel.relnamespace
                where
                    rel.relkind in ('r', 'p', 'v', 'm', 'f')
                    and pg_has_role(rel.relowner, 'USAGE')
                    and not exists (
                        select 1 from aclexplode(rel.relacl) as rel_acl
                        where
                            rel_acl.grantee = readers.role_oid
                            and rel_acl.privilege_type = 'SELECT'
                    )
            )

            select grants.statement
            from (
                select * from schema_grants
                union all
                select * from table_grants
            ) as grants
            order by grants.step, grants.statement
        loop
            execute grant_sql;
        end loop;
    end
    $grant$
{%- endmacro %}
