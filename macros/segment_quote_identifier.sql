{% macro segment_quote_identifier(name) %}
    {#-
        The identifier as it must be written in SQL: bare when it is a plain lowercase
        name, double-quoted (through adapter.quote) when it has capitals, a leading digit,
        other characters, or is a PostgreSQL keyword that cannot stand as a column name.
    -#}
    {#- pg_get_keywords() where catcode <> 'U' (PostgreSQL 15). -#}
    {%- set keywords = [
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
        "authorization", "between", "bigint", "binary", "bit", "boolean", "both", "case",
        "cast", "char", "character", "check", "coalesce", "collate", "collation", "column",
        "concurrently", "constraint", "create", "cross", "current_catalog", "current_date",
        "current_role", "current_schema", "current_time", "current_timestamp",
        "current_user", "dec", "decimal", "default", "deferrable", "desc", "distinct",
        "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float",
        "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group",
        "grouping", "having", "ilike", "in", "initially", "inner", "inout", "int",
        "integer", "intersect", "interval", "into", "is", "isnull", "join", "lateral",
        "leading", "least", "left", "like", "limit", "localtime", "localtimestamp",
        "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null",
        "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer",
        "overlaps", "overlay", "placing", "position", "precision", "primary", "real",
        "references", "returning", "right", "row", "select", "session_user", "setof",
        "similar", "smallint", "some", "substring", "symmetric", "table", "tablesample",
        "then", "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union",
        "unique", "user", "using", "values", "varchar", "variadic", "verbose", "when",
        "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement",
        "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot",
        "xmlserialize", "xmltable",
    ] -%}
    {%- if not execute -%}
        {#- Lint renders have no adapter; declared names are plain or keywords. -#}
        {{ return('"' ~ name ~ '"' if name in keywords else name) }}
    {%- endif -%}
    {%- if modules.re.fullmatch("[a-z_][a-z0-9_]*", name) and name not in keywords -%}
        {{ return(name) }}
    {%- endif -%}
    {{ return(adapter.quote(name)) }}
{% endmacro %}
