{% macro change_log_relation(relation) -%}
    {#-
        The change log of a change-driven model: `<model>__changes` beside it, one
        row per row the model deleted (change_sign -1) or inserted (+1), holding the
        model's log_columns and the run that changed it (changed_at).
    -#}
    {{ return(api.Relation.create(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier ~ "__changes",
        type="table",
    )) }}
{%- endmacro %}
