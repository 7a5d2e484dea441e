{% macro reader_roles_ready(role_alias) -%}
    {#-
        SQL condition on pg_roles row `role_alias`: the role may connect to this
        database by an explicit grant, as setup-roles gives the reader groups once
        it has revoked CONNECT from PUBLIC. A role of the same name that only
        exists for another database of the cluster gets nothing.
    -#}
    exists (
        select 1
        from pg_database as db,
            aclexplode(db.datacl) as db_acl
        where
            db.datname = current_database()
            and db_acl.grantee = {{ role_alias }}.oid
            and db_acl.privilege_type = 'CONNECT'
    )
{%- endmacro %}
