{% macro change_driven_is_incremental() -%}
    {#-
        Whether this change-driven model applies changes to its existing rows (true)
        or is built in full (false). The model's select and the materialization ask
        the same question, so both always agree. A full build happens when the table
        does not exist, dbt's full-refresh rule says so (should_full_refresh: the
        --full-refresh flag or changed settings), this model has no run-state row,
        its own change log is missing or lacks one of its log_columns (they were
        changed), or a change log it reads (change_logs) was
        rebuilt or pruned after this model's last run: that log no longer holds
        every change since then. Asked once per model run (run_state_memo()).
    -#}
    {#- (sameas: a linter's stand-in for `execute` may be a string) -#}
    {%- if execute is not sameas true -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set memo = run_state_memo() -%}
    {%- if "incremental" in memo -%}
        {{ return(memo["incremental"]) }}
    {%- endif -%}
    {%- set answer = namespace(incremental=true) -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- if existing is none or existing.type != "table" or should_full_refresh() -%}
        {%- set answer.incremental = false -%}
    {%- elif config.get("log_columns") -%}
        {%- set log = load_relation(change_log_relation(this)) -%}
        {%- if log is none -%}
            {%- set answer.incremental = false -%}
        {%- else -%}
            {%- set logged = adapter.get_columns_in_relation(log)
                | map(attribute="name") | list -%}
            {%- for column in config.get("log_columns") if column not in logged -%}
                {%- set answer.incremental = false -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- set upstream = [] -%}
    {%- for name in config.get("change_logs") or [] -%}
        {%- do upstream.append(segment_string_literal(name)) -%}
    {%- endfor -%}
    {%- set query -%}
        select count(log_owner.model_name) = {{ upstream | length }}
        from {{ run_state_relation() }} as own
        left join {{ run_state_relation() }} as log_owner
            on
                log_owner.model_name in ({{ upstream | join(", ") or "null" }})
                and log_owner.rebuilt_at <= own.run_started_at
                and log_owner.log_pruned_through <= own.run_started_at
        where own.model_name = {{ segment_string_literal(this.identifier) }}
        having count(*) > 0
    {%- endset -%}
    {%- if answer.incremental -%}
        {%- set rows = run_query(query).rows -%}
        {%- set answer.incremental = rows | length == 1 and rows[0][0] -%}
    {%- endif -%}
    {%- do memo.update({"incremental": answer.incremental}) -%}
    {{ return(answer.incremental) }}
{%- endmacro %}
