{% macro run_state_since() -%}
    {#-
        SQL timestamptz literal: the run_started_at of the last run in which this
        model completed, so that `changed_at > since` / `staged_at > since` selects
        exactly the upstream changes it has not applied yet. '-infinity' on a full
        build, when the model is new, or when its state row is missing (everything is
        recomputed, which is always correct). Asked once per model run
        (run_state_memo()).
    -#}
    {%- set everything = "'-infinity'::timestamptz" -%}
    {%- if not execute -%}
        {{ return(everything) }}
    {%- endif -%}
    {%- set memo = run_state_memo() -%}
    {%- if "since" in memo -%}
        {{ return(memo["since"]) }}
    {%- endif -%}
    {%- if model.config.materialized == "change_driven" -%}
        {%- set applying = change_driven_is_incremental() -%}
    {%- else -%}
        {%- set applying = is_incremental() -%}
    {%- endif -%}
    {%- set since = namespace(literal=everything) -%}
    {%- if applying -%}
        {%- set query -%}
            select run_started_at::text from {{ run_state_relation() }}
            where model_name = {{ segment_string_literal(this.identifier) }}
        {%- endset -%}
        {%- set rows = run_query(query).rows -%}
        {%- if rows | length > 0 -%}
            {%- set since.literal = segment_string_literal(rows[0][0]) ~ "::timestamptz" -%}
        {%- endif -%}
    {%- endif -%}
    {%- do memo.update({"since": since.literal}) -%}
    {{ return(since.literal) }}
{%- endmacro %}
