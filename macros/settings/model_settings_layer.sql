{% macro model_settings_layer(node=model) %}
    {#- "staging" for models under models/staging, else "later". -#}
    {{ return("staging" if "staging" in node.fqn else "later") }}
{% endmacro %}
