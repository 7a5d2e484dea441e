{% macro segment_settings() %}
    {#-
        The project's vars, checked: a dict of segment_schemas (list of names),
        session_timeout_minutes (int), incremental_lookback_hours (number),
        identity_ignore_values and excluded_user_ids (lists of strings),
        internal_domains (host names in lower case, each once),
        retention_return_events (event names), retention_max_weeks (1-520) and
        funnel_window_hours (a number of hours, more than 0 and at most 8760), and
        freshness_warn_hours and freshness_error_hours (numbers above 0, warn at
        most error; `segment-reports status` reads them). A
        wrong type or a value out of range stops the run with a message naming the
        var while dbt parses the project (the on-run-start hook calls this), before
        anything is created. The README's Configuration section states each rule.
    -#}
    {%- if not execute and target is not defined -%}
        {#-
            Linting outside dbt (sqlfluff's jinja templater has no target and fakes
            every var): nothing to check. Under dbt the checks run while the project
            is parsed, so a wrong var stops every command before dbt creates a
            schema.
        -#}
        {{ return({
            "segment_schemas": [var("segment_schemas")]
                if var("segment_schemas") is string else var("segment_schemas"),
            "session_timeout_minutes": var("session_timeout_minutes"),
            "incremental_lookback_hours": var("incremental_lookback_hours"),
            "identity_ignore_values": var("identity_ignore_values") | list,
            "excluded_user_ids": var("excluded_user_ids") | list,
            "internal_domains": var("internal_domains", []) | list,
            "retention_return_events": var("retention_return_events", []) | list,
            "retention_max_weeks": var("retention_max_weeks", 26),
            "funnel_window_hours": var("funnel_window_hours", 168),
        }) }}
    {%- endif -%}
    {%- set problems = [] -%}

    {%- set schemas = var("segment_schemas") -%}
    {%- if schemas is string or schemas is mapping or schemas is not iterable -%}
        {%- do problems.append(
            "segment_schemas must be a list of schema names, for example "
            ~ "[production, ios]; got " ~ segment_describe_value(schemas)
        ) -%}
        {%- set schemas = [] -%}
    {%- else -%}
        {%- for name in schemas -%}
            {%- if name is not string or name | trim == "" -%}
                {%- do problems.append(
                    "segment_schemas must hold schema names (non-empty strings); "
                    ~ "got " ~ segment_describe_value(name)
                ) -%}
            {%- elif name | length > 63 -%}
                {%- do problems.append(
                    "segment_schemas: " ~ name ~ " is longer than PostgreSQL's "
                    ~ "63-byte identifier limit"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if schemas | length == 0 -%}
            {%- do problems.append(
                "segment_schemas is empty: list the schemas Segment writes to, "
                ~ "for example [production]"
            ) -%}
        {%- endif -%}
    {%- endif -%}

    {%- set timeout = var("session_timeout_minutes") -%}
    {%- if not segment_is_integer(timeout) or timeout < 1 or timeout > 1440 -%}
        {%- do problems.append(
            "session_timeout_minutes must be a whole number of minutes from 1 to "
            ~ "1440 (one day); got " ~ segment_describe_value(timeout)
        ) -%}
    {%- endif -%}

    {%- set lookback = var("incremental_lookback_hours") -%}
    {%- set minimum_lookback = segment_minimum_lookback_hours() -%}
    {%- if not segment_is_number(lookback)
        or lookback < minimum_lookback or lookback > 8760 -%}
        {%- do problems.append(
            "incremental_lookback_hours must be a number of hours from "
            ~ minimum_lookback ~ " to 8760; got " ~ segment_describe_value(lookback)
            ~ ". Below " ~ minimum_lookback ~ " h, rows of a Segment sync that "
            ~ "commits while a run reads could be skipped for good"
        ) -%}
    {%- endif -%}

    {%- set lists = {} -%}
    {%- for name in ["identity_ignore_values", "excluded_user_ids"] -%}
        {%- set values = var(name) -%}
        {%- set cleaned = [] -%}
        {%- if values is string or values is mapping or values is not iterable -%}
            {%- do problems.append(
                name ~ " must be a list of strings, for example ['', 'null']; got "
                ~ segment_describe_value(values)
            ) -%}
        {%- else -%}
            {%- for value in values -%}
                {%- if value is string or segment_is_number(value) -%}
                    {%- do cleaned.append(value | string) -%}
                {%- else -%}
                    {%- do problems.append(
                        name ~ " must hold strings; got "
                        ~ segment_describe_value(value)
                    ) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
        {%- do lists.update({name: cleaned}) -%}
    {%- endfor -%}

    {%- set domains = var("internal_domains", []) -%}
    {%- set internal_domains = [] -%}
    {%- if domains is string or domains is mapping or domains is not iterable -%}
        {%- do problems.append(
            "internal_domains must be a list of domains, for example [example.com]; "
            ~ "got " ~ segment_describe_value(domains)
        ) -%}
    {%- else -%}
        {%- for value in domains -%}
            {%- set domain = value | trim | lower if value is string else "" -%}
            {%- set host_name = "[a-z0-9_-]+([.][a-z0-9_-]+)*" -%}
            {%- if not modules.re.fullmatch(host_name, domain) -%}
                {%- do problems.append(
                    "internal_domains must hold host names such as example.com (no "
                    ~ "scheme, port or path); got " ~ segment_describe_value(value)
                ) -%}
            {%- elif domain not in internal_domains -%}
                {%- do internal_domains.append(domain) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}

    {%- set return_events = var("retention_return_events", []) -%}
    {%- if return_events is string or return_events is mapping
        or return_events is not iterable -%}
        {%- do problems.append(
            "retention_return_events must be a list of event names, for example "
            ~ "[deployments_new]; got " ~ segment_describe_value(return_events)
        ) -%}
        {%- set return_events = [] -%}
    {%- else -%}
        {%- for name in return_events
            if name is not string or name | trim == "" -%}
            {%- do problems.append(
                "retention_return_events must hold event names (non-empty "
                ~ "strings); got " ~ segment_describe_value(name)
            ) -%}
        {%- endfor -%}
    {%- endif -%}

    {%- set max_weeks = var("retention_max_weeks", 26) -%}
    {%- if not segment_is_integer(max_weeks) or max_weeks < 1 or max_weeks > 520 -%}
        {%- do problems.append(
            "retention_max_weeks must be a whole number of weeks from 1 to 520; got "
            ~ segment_describe_value(max_weeks)
        ) -%}
    {%- endif -%}

    {%- set funnel_window = var("funnel_window_hours", 168) -%}
    {%- if not segment_is_number(funnel_window)
        or funnel_window <= 0 or funnel_window > 8760 -%}
        {%- do problems.append(
            "funnel_window_hours must be a number of hours above 0 and at most 8760 "
            ~ "(a year); got " ~ segment_describe_value(funnel_window)
        ) -%}
    {%- endif -%}

    {%- set warn_hours = var("freshness_warn_hours", 6) -%}
    {%- set error_hours = var("freshness_error_hours", 24) -%}
    {%- for name, value in [
        ("freshness_warn_hours", warn_hours), ("freshness_error_hours", error_hours)
    ] if not segment_is_number(value) or value <= 0 -%}
        {%- do problems.append(
            name ~ " must be a number of hours above 0; got "
            ~ segment_describe_value(value)
        ) -%}
    {%- else -%}
        {%- if warn_hours > error_hours -%}
            {%- do problems.append(
                "freshness_warn_hours (" ~ warn_hours ~ ") must not exceed "
                ~ "freshness_error_hours (" ~ error_hours ~ ")"
            ) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if problems | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            "Invalid dbt var(s) (set in dbt_project.yml, settings.yml or --vars):\n  - "
            ~ problems | join("\n  - ")
        ) }}
    {%- endif -%}

    {%- set names = [] -%}
    {%- for name in schemas if name not in names -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return({
        "segment_schemas": names,
        "session_timeout_minutes": timeout,
        "incremental_lookback_hours": lookback,
        "identity_ignore_values": lists.identity_ignore_values,
        "excluded_user_ids": lists.excluded_user_ids,
        "internal_domains": internal_domains,
        "retention_return_events": return_events | map("trim") | unique | list,
        "retention_max_weeks": max_weeks,
        "funnel_window_hours": funnel_window,
    }) }}
{% endmacro %}
