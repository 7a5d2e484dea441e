{% materialization change_driven, adapter="postgres" %}
    {#-
        A table kept up to date by replacing only the rows that upstream changes
        touched (README, "How incremental runs stay correct"). The model declares:
        - recompute_by: the key columns; an incremental run deletes every row whose
          key is among the changed keys and inserts what the model's select returns
          for those keys ([] appends the select's rows and deletes nothing);
        - recompute_from (optional): a column; only rows at or after each changed
          key's recompute_from are replaced;
        - changed_keys: where the changed keys come from (change_driven_keys());
        - change_logs: the change-driven models whose change logs it reads;
        - log_columns (optional): publish a change log, `<model>__changes`, holding
          these columns of every row this run deleted (change_sign -1) and inserted
          (+1), stamped changed_at with the run. Downstream models apply it;
        - unique_key (optional): columns identifying a row; a recomputed row equal
          to the stored row of its key is then left in place, unlogged, so a run
          writes and logs only the rows that changed. Keys compare with `=`, so a
          row with a null in its unique_key is always replaced; lead with the
          recompute_by columns so that the comparison reads the delete's index.
        One transaction holds the changed keys, the delete, the insert, the change
        log and the run-state record, so a failed or killed run changes nothing and
        the next run applies the same changes again. A full build (first run,
        --full-refresh, changed settings, or an upstream change log that no longer
        covers this model's last run) recreates the table and empties its log.
        The select sees the changed keys as `{{ changed_keys_relation() }}`. A full
        build of a table whose columns stay the same truncates and reloads it in
        place, so views over it (marts) keep working; new columns swap in a new table.
    -#}
    {%- set target_relation = this.incorporate(type="table") -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set incremental = change_driven_is_incremental() -%}
    {%- set log_columns = config.get("log_columns") or [] -%}
    {%- set log_relation = change_log_relation(this) -%}
    {%- set stamp = segment_staged_at() -%}
    {%- set grant_config = config.get("grants") -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if not incremental and change_driven_same_shape(existing_relation, sql) %}
        {#-
            Rebuilt in place (views over the table, such as the marts, survive;
            with wal_level=minimal the truncated table's load writes no WAL).
        -#}
        {%- call statement("main") -%}
            {{ change_driven_drop_indexes(target_relation) }}
            truncate {{ target_relation }};
            insert into {{ target_relation }} {{ sql }}
        {%- endcall %}
        {%- do create_indexes(target_relation) %}
        {%- call statement("change_log") -%}
            {{ change_log_create(target_relation, log_relation, log_columns) }}
            analyze {{ target_relation }}
        {%- endcall %}
    {%- elif not incremental %}
        {#- A new table, or new columns: built beside the old one, then swapped. -#}
        {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
        {%- set backup_relation = make_backup_relation(target_relation, "table") -%}
        {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
        {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
        {%- call statement("main") -%}
            {{ get_create_table_as_sql(False, intermediate_relation, sql) }}
        {%- endcall %}
        {%- if existing_relation is not none %}
            {%- set existing_relation = load_cached_relation(existing_relation) -%}
            {%- if existing_relation is not none %}
                {{ adapter.rename_relation(existing_relation, backup_relation) }}
            {%- endif %}
        {%- endif %}
        {{ adapter.rename_relation(intermediate_relation, target_relation) }}
        {%- do create_indexes(target_relation) %}
        {%- call statement("change_log") -%}
            {{ change_log_create(target_relation, log_relation, log_columns) }}
            analyze {{ target_relation }}
        {%- endcall %}
    {%- else %}
        {%- set keys_relation = changed_keys_relation() -%}
        {%- set recomputed = make_temp_relation(target_relation) -%}
        {%- call statement("changed_keys") -%}
            drop table if exists {{ keys_relation }};
            create temporary table {{ keys_relation }} on commit drop as
            {{ change_driven_keys() }};
            analyze {{ keys_relation }}
        {%- endcall %}
        {%- call statement("recompute") -%}
            {{ get_create_table_as_sql(True, recomputed, sql) }};
            analyze {{ recomputed }}
        {%- endcall %}
        {%- set columns = process_schema_changes(
            config.get("on_schema_change", "fail"), recomputed, existing_relation
        ) or adapter.get_columns_in_relation(existing_relation) -%}
        {%- call statement("main", fetch_result=True) -%}
            {{ change_driven_replace(
                target_relation, recomputed, keys_relation, columns, log_relation,
                log_columns, stamp
            ) }}
        {%- endcall %}
        {#- dbt's line for the model and the run's audit (run_results.json) -#}
        {%- set changed = load_result("main").table.rows[0] %}
        {%- do store_raw_result(
            "main",
            message="INSERT " ~ changed[1] ~ " DELETE " ~ changed[0],
            code="INSERT DELETE",
            rows_affected=changed[1] | int,
        ) %}
    {%- endif %}
    {%- call statement("run_state") -%}
        {{ change_log_prune(log_relation, log_columns) }}
        {{ run_state_record(rebuilt=not incremental) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do apply_grants(
        target_relation, grant_config,
        should_revoke=should_revoke(existing_relation, full_refresh_mode=not incremental)
    ) %}
    {%- do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {%- if not incremental %}
        {{ drop_relation_if_exists(make_backup_relation(target_relation, "table")) }}
    {%- endif %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({"relations": [target_relation]}) }}
{% endmaterialization %}
