{% macro change_driven_keys() -%}
    {#-
        SQL selecting the changed keys of an incremental run of this change-driven
        model: its recompute_by columns, and recompute_from (the earliest) when the
        model declares one. The model's changed_keys config lists where they come
        from, each entry either
        - {"log": "<model>", "select": {"<key>": "<expression>", ...},
          "where": "<condition>", "net": true|false}: the rows of that
          change-driven model's change log written since this model's last run,
          each giving a key (and recompute_from) by the expressions over the log's
          columns; with "net", only keys whose removed and added rows do not
          cancel out (a row recomputed unchanged is no change); or
        - {"macro": "<name>"}: a macro returning SQL that selects the same columns.
        A null key is no key (its rows are never replaced) unless the model lists
        the column in nullable_keys (null then matches null, at the cost of the
        key's index).
    -#}
    {%- set keys = config.get("recompute_by") or [] -%}
    {%- set columns = keys + (["recompute_from"] if config.get("recompute_from") else []) -%}
    {%- set parts = [] -%}
    {%- for entry in config.get("changed_keys") or [] -%}
        {%- if entry.get("macro") -%}
            {%- do parts.append(context.get(entry["macro"])()) -%}
        {%- else -%}
            {%- set part -%}
                select
                {%- for column in columns %}
                    {{ entry["select"][column] }} as {{ adapter.quote(column) }}
                    {{- "," if not loop.last }}
                {%- endfor %}
                from {{ change_log(entry["log"]) }} as changes
                {%- if entry.get("where") %}
                    where {{ entry["where"] }}
                {%- endif %}
                {%- if entry.get("net") %}
                    group by
                    {%- for column in columns %}
                        {{ entry["select"][column] }}{{ "," if not loop.last }}
                    {%- endfor %}
                    having sum(changes.change_sign) != 0
                {%- endif %}
            {%- endset -%}
            {%- do parts.append(part) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not keys -%}
        {#- an append-only model: no key to delete by -#}
        select where false
    {%- else %}
        select
        {%- for key in keys %}
            {{ adapter.quote(key) }},
        {%- endfor %}
        {%- if config.get("recompute_from") %}
            min(recompute_from) as recompute_from,
        {%- endif %}
            count(*) as change_count
        from (
        {%- for part in parts %}
            select * from ({{ part }}) as part_{{ loop.index }}
            {{ "union all" if not loop.last }}
        {%- endfor %}
        ) as changed
        where true
        {%- for key in keys if key not in (config.get("nullable_keys") or []) %}
            and {{ adapter.quote(key) }} is not null
        {%- endfor %}
        group by {% for key in keys %}{{ adapter.quote(key) }}{{ ", " if not loop.last }}{% endfor %}
    {%- endif %}
{%- endmacro %}
