{% macro segment_url_host(url) -%}
    {#-
        SQL: the host of the URL expression `url` in lower case, without scheme,
        user info, port, path or a trailing dot (`https://www.Google.com:443/x` ->
        `www.google.com`); a value without a scheme is read from its start
        (`google.com/search`); null for null, an empty string or no host.
    -#}
    nullif(
        rtrim(
            lower(
                substring(
                    trim({{ url }})
                    from '^(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?://)?(?:[^/?#@]*@)?([^/?#:@[:space:]]+)'
                )
            ),
            '.'
        ),
        ''
    )
{%- endmacro %}
