{% macro run_state_memo() -%}
    {#-
        A dict that lives as long as the current model's compilation, or its
        materialization: run_state_since(), change_driven_is_incremental() and
        model_settings_changes() keep their answers in it, so that each asks the
        database once per model, not once per macro that calls it. Their answers
        describe the model as it was when its run began, which is what every
        caller asks about.
    -#}
    {{ return(model.setdefault("segment_reports_run_state", {})) }}
{%- endmacro %}
