{% macro reader_roles() -%}
    {#-
        The group roles that read each analytics schema: the marts (target schema)
        by analyst and reporter, <target>_staging and <target>_ops by analyst only,
        <target>_intermediate by nobody but the transformer. setup-roles grants the
        same (READERS in scripts/segment_reports/roles.py). Role names from the vars
        analyst_role and reporter_role, which must match the groups in roles.yml.
    -#}
    {%- set analyst = var("analyst_role", "analyst") -%}
    {%- set reporter = var("reporter_role", "reporter") -%}
    {{ return({
        target.schema: [analyst, reporter],
        target.schema ~ "_staging": [analyst],
        target.schema ~ "_ops": [analyst],
    }) }}
{%- endmacro %}
