{% macro segment_host_matches(host, domains) -%}
    {#-
        SQL: whether the host expression `host` is one of `domains` (a list of
        lower-case host names) or a subdomain of one; false for an empty list.
    -#}
    {%- set tests = [] -%}
    {%- for domain in domains -%}
        {%- do tests.append(
            "(" ~ host ~ " = " ~ segment_string_literal(domain) ~ " or right("
            ~ host ~ ", " ~ (domain | length + 1) ~ ") = "
            ~ segment_string_literal("." ~ domain) ~ ")"
        ) -%}
    {%- endfor -%}
    coalesce({{ tests | join(" or ") or "false" }}, false)
{%- endmacro %}
