{% macro grant_select_to_readers() -%}
    {#-
        post-hook of every model: SELECT on the model to the reader roles of its
        schema (reader_roles()) that setup-roles has set up, inside the model's
        transaction, so a rebuilt table is readable from the moment it replaces the
        old one, whoever runs dbt. Granted only when missing; nothing before
        setup-roles has run (reader_roles_ready()).
    -#}
    {%- set readers = reader_roles().get(this.schema, []) -%}
    {%- if readers | length == 0 -%}
        {{ return("") }}
    {%- endif -%}
    {%- set relation = segment_string_literal(this.include(database=False)) -%}
    {%- set names = [] -%}
    {%- for name in readers -%}
        {%- do names.append(segment_string_literal(name)) -%}
    {%- endfor -%}
    do $grant$
    declare
        reader text;
    begin
        for reader in
            select reader_role.rolname
            from pg_roles as reader_role
            where
                reader_role.rolname in ({{ names | join(", ") }})
                and {{ reader_roles_ready("reader_role") }}
                and not exists (
                    select 1
                    from pg_class as rel,
                        aclexplode(rel.relacl) as rel_acl
                    where
                        rel.oid = {{ relation }}::regclass
                        and rel_acl.grantee = reader_role.oid
                        and rel_acl.privilege_type = 'SELECT'
                )
        loop
            execute format('grant select on %s to %I', {{ relation }}, reader);
        end loop;
    end
    $grant$
{%- endmacro %}
