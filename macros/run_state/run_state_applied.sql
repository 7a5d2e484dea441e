{% macro run_state_applied(models) -%}
    {#-
        SQL timestamptz literal: the earliest last-completed run among `models` (names
        of change-driven models this model reads the state of, e.g. ["events"]). A
        model that reads another model's tables applies change-log entries only up to
        this point and records it as its own state, so a run that skipped the
        upstream model (a partial `--select`) never makes it apply changes that the
        upstream tables do not hold yet. '-infinity' when an upstream model has never
        completed.
    -#}
    {%- if not execute -%}
        {{ return(segment_staged_at()) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for name in models -%}
        {%- do names.append(segment_string_literal(name)) -%}
    {%- endfor -%}
    {%- set query -%}
        select
            case
                when count(*) = {{ models | length }} then min(run_started_at)::text
                else '-infinity'
            end
        from {{ run_state_relation() }}
        where model_name in ({{ names | join(", ") }})
    {%- endset -%}
    {{ return(segment_string_literal(run_query(query).rows[0][0]) ~ "::timestamptz") }}
{%- endmacro %}
