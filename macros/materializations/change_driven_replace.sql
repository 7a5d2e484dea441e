{% macro change_driven_replace(
    target_relation, recomputed, keys_relation, columns, log_relation, log_columns,
    stamp
) -%}
    {#-
        The incremental step of the change_driven materialization: delete the rows
        of the changed keys (from recompute_from on), insert the recomputed rows, and
        log both with their signs when the model publishes a change log.
    -#}
    {%- set keys = config.get("recompute_by") or [] -%}
    {%- set from_column = config.get("recompute_from") -%}
    {%- set names = [] -%}
    {%- for column in columns -%}
        {%- do names.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- set logged = [] -%}
    {%- for column in log_columns -%}
        {%- do logged.append(adapter.quote(column)) -%}
    {%- endfor -%}
    {%- set nullable = config.get("nullable_keys") or [] -%}
    {%- if nullable and keys | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ ": nullable_keys needs a single recompute_by column"
        ) }}
    {%- endif -%}
    {%- if keys %}
        with removed as (
            delete from {{ target_relation }} as target_rows
            using {{ keys_relation }} as changed
            where
            {%- for key in keys %}
                target_rows.{{ adapter.quote(key) }} = changed.{{ adapter.quote(key) }}
                {{- " and" if not loop.last or from_column }}
            {%- endfor %}
            {%- if from_column %}
                target_rows.{{ adapter.quote(from_column) }} >= changed.recompute_from
            {%- endif %}
            returning target_rows.*
        {%- if nullable %}
            {#- a null key: a second delete, so the first one can hash-join -#}
            {%- set key = adapter.quote(keys[0]) %}
        ),

        removed_null as (
            delete from {{ target_relation }} as target_rows
            where
                target_rows.{{ key }} is null
                and exists (
                    select 1 from {{ keys_relation }} as changed
                    where changed.{{ key }} is null
                    {%- if from_column %}
                        and target_rows.{{ adapter.quote(from_column) }}
                        >= changed.recompute_from
                    {%- endif %}
                )
            returning target_rows.*
        {%- endif %}
        )
        {%- if log_columns %}
            insert into {{ log_relation }} ({{ logged | join(", ") }}, change_sign, changed_at)
            select {{ logged | join(", ") }}, -1, {{ stamp }} from removed
            {%- if nullable %}
                union all
                select {{ logged | join(", ") }}, -1, {{ stamp }} from removed_null
            {%- endif %};
        {%- else %}
            select count(*) from removed
            {%- if nullable %}
                union all
                select count(*) from removed_null
            {%- endif %};
        {%- endif %}
    {%- endif %}
    insert into {{ target_relation }} ({{ names | join(", ") }})
    select {{ names | join(", ") }} from {{ recomputed }};
    {%- if log_columns %}
        insert into {{ log_relation }} ({{ logged | join(", ") }}, change_sign, changed_at)
        select {{ logged | join(", ") }}, 1, {{ stamp }} from {{ recomputed }};
    {%- endif %}
{%- endmacro %}
