{% macro change_driven_replace(
    target_relation, recomputed, keys_relation, columns, log_relation, log_columns,
    stamp
) -%}
    {#-
        The incremental step of the change_driven materialization: delete the rows
        of the changed keys (from recompute_from on), insert the recomputed rows, and
        log both with their signs when the model publishes a change log, and select
        the numbers of rows deleted and inserted (the statement's result). With a
        unique_key, a recomputed row identical to the stored row of its key is
        neither deleted nor inserted nor logged: only rows that changed are written.
    -#}
    {%- set keys = config.get("recompute_by") or [] -%}
    {%- set from_column = config.get("recompute_from") -%}
    {%- set unique_key = config.get("unique_key") or [] -%}
    {%- if unique_key is string -%}
        {%- set unique_key = [unique_key] -%}
    {%- endif -%}
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
    {%- set counts = make_temp_relation(target_relation, "__dbt_counts") -%}
    create temporary table {{ counts }} (deleted bigint) on commit drop;
    {%- set added = recomputed -%}
    {%- if unique_key -%}
        {%- set added = make_temp_relation(target_relation, "__dbt_added") -%}
        create temporary table {{ added }} on commit drop as
        select recomputed_rows.* from {{ recomputed }} as recomputed_rows
        where not exists (
            {{ change_driven_same_row(
                target_relation, "stored_rows", "recomputed_rows", unique_key, names
            ) }}
        );
    {%- endif %}
    {%- if keys %}
        with removed as (
            delete from {{ target_relation }} as target_rows
            using {{ keys_relation }} as changed
            where
            {%- for key in keys %}
                target_rows.{{ adapter.quote(key) }} = changed.{{ adapter.quote(key) }}
                {{- " and" if not loop.last or from_column or unique_key }}
            {%- endfor %}
            {%- if from_column %}
                target_rows.{{ adapter.quote(from_column) }} >= changed.recompute_from
                {{- " and" if unique_key }}
            {%- endif %}
            {%- if unique_key %}
                not exists (
                    {{ change_driven_same_row(
                        recomputed, "recomputed_rows", "target_rows", unique_key, names
                    ) }}
                )
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
                {%- if unique_key %}
                    and not exists (
                        {{ change_driven_same_row(
                            recomputed, "recomputed_rows", "target_rows", unique_key,
                            names
                        ) }}
                    )
                {%- endif %}
            returning target_rows.*
        {%- endif %}
        {%- if log_columns %}
        ),

        removed_logged as (
            insert into {{ log_relation }} ({{ logged | join(", ") }}, change_sign, changed_at)
            select {{ logged | join(", ") }}, -1, {{ stamp }} from removed
            {%- if nullable %}
                union all
                select {{ logged | join(", ") }}, -1, {{ stamp }} from removed_null
            {%- endif %}
            returning 1
        {%- endif %}
        )

        insert into {{ counts }}
        select
            (select count(*) from removed)
            {%- if nullable %}
                + (select count(*) from removed_null)
            {%- endif %};
    {%- endif %}
    insert into {{ target_relation }} ({{ names | join(", ") }})
    select {{ names | join(", ") }} from {{ added }};
    {%- if log_columns %}
        insert into {{ log_relation }} ({{ logged | join(", ") }}, change_sign, changed_at)
        select {{ logged | join(", ") }}, 1, {{ stamp }} from {{ added }};
    {%- endif %}
    {#- the last result: what this run did to the table, for the run's audit -#}
    select
        coalesce((select sum(deleted) from {{ counts }}), 0) as deleted,
        (select count(*) from {{ added }}) as inserted;
{%- endmacro %}

{% macro change_driven_same_row(relation, alias, other, unique_key, names) -%}
    {#-
        For change_driven_replace(): a select of the row of relation (as alias) with
        the same unique_key as the row `other` and equal in every column (nulls
        equal), for an exists test.
    -#}
    select 1 from {{ relation }} as {{ alias }}
    where
    {%- for key in unique_key %}
        {{ alias }}.{{ adapter.quote(key) }} = {{ other }}.{{ adapter.quote(key) }} and
    {%- endfor %}
        ({{ alias }}.{{ names | join(", " ~ alias ~ ".") }})
        is not distinct from
        ({{ other }}.{{ names | join(", " ~ other ~ ".") }})
{%- endmacro %}
