{% macro run_state_upto() -%}
    {#-
        run_state_applied() for the models listed in this model's
        `meta.run_state_applied` config (the change-driven models whose tables it
        reads), or none when it lists none (it then applies changes up to this run).
    -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set upstream = (config.get("meta") or {}).get("run_state_applied") -%}
    {%- if not upstream -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(run_state_applied(upstream)) }}
{%- endmacro %}
