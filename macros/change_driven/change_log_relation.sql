{% macro change_log_relation(relation) -%}
    {#-
        The change log of a change-driven model: `<model>__changes` in
        <target>_intermediate, which only the transformer reads (a mart's log is no
        report), one row per row the model deleted (change_sign -1) or inserted
        (+1), holding the model's log_columns and the run that changed it
        (changed_at).
    -#}
    {{ return(api.Relation.create(
        database=relation.database,
        schema=generate_schema_name("intermediate", none),
        identifier=relation.identifier ~ "__changes",
        type="table",
    )) }}
{%- endmacro %}
