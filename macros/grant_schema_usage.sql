{% macro grant_schema_usage() %}
    {#-
        on-run-end, when var('grant_roles') is true: USAGE on the marts schema for the
        analyst and reporter roles and on the staging schema for the analyst role.
        dbt's grants config covers tables only, so without this a first build (which
        creates the schemas) would leave them unreachable until setup-roles ran again.
        Schemas that do not exist (yet) are skipped.
    -#}
    {%- if not var("grant_roles", false) -%}
        {{ return("select 1") }}
    {%- endif -%}
    {%- set analyst = var("analyst_role", "analyst") -%}
    {%- set reporter = var("reporter_role", "reporter") -%}
    {%- set pairs = [
        [target.schema, analyst],
        [target.schema, reporter],
        [target.schema ~ "_staging", analyst],
    ] -%}
    do $grants$
    begin
{%- for schema_name, role_name in pairs %}
        if exists (
            select 1 from pg_namespace
            where nspname = {{ segment_string_literal(schema_name) }}
        ) then
            execute format(
                'grant usage on schema %I to %I',
                {{ segment_string_literal(schema_name) }},
                {{ segment_string_literal(role_name) }}
            );
        end if;
{%- endfor %}
    end
    $grants$
{% endmacro %}
