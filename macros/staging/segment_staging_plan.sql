{% macro segment_staging_plan(relations, columns, key, keep, device_key) %}
    {#-
        The parts of segment_staging_select()'s SQL, from its arguments (documented
        there): union_columns and properties for segment_union_relations(), the
        renamed select list (selected) and its quoted output names (names), the
        quoted key, and order_by (source_schema,
        key, the load order, then the tie-break). One compilation error lists every
        problem with the arguments.
    -#}
    {%- set shared = segment_staging_columns() -%}
    {%- set envelope = segment_envelope_columns() | map(attribute=0) | list -%}
    {%- set problems = [] -%}
    {%- if keep not in ["first", "latest"] -%}
        {%- do problems.append("keep must be first or latest, not " ~ keep) -%}
    {%- endif -%}
    {%- if execute and keep == "latest"
        and config.get("materialized") == "incremental" -%}
        {%- do problems.append(
            "keep='latest' needs a table materialization: appending never"
            ~ " replaces a copy already staged"
        ) -%}
    {%- endif -%}

    {#- Every entry as a dict, and the raw columns they read, each once. -#}
    {%- set specs = [] -%}
    {%- set others = [] -%}
    {%- set names = [] -%}
    {%- set reads = [] -%}
    {%- set read_types = {} -%}
    {%- for entry in columns -%}
        {%- if entry is string and entry not in shared -%}
            {%- do problems.append(
                "no shared column " ~ entry ~ " (known: "
                ~ shared.keys() | join(", ") ~ ")"
            ) -%}
        {%- endif -%}
        {%- if entry is string -%}
            {%- set spec = shared.get(entry, {"name": entry}) -%}
        {%- elif entry is mapping -%}
            {%- set spec = entry -%}
        {%- else -%}
            {%- set spec = {
                "name": entry[2] if entry | length > 2 else entry[0],
                "from": entry[0],
                "type": entry[1],
            } -%}
        {%- endif -%}
        {%- if spec.get("other_columns") -%}
            {%- do others.append(spec) -%}
        {%- endif -%}
        {%- if spec.get("other_columns") not in [none, "columns", "jsonb"] -%}
            {%- do problems.append(
                "other_columns must be columns or jsonb, not "
                ~ spec["other_columns"]
            ) -%}
        {%- endif -%}
        {%- if spec.get("name") -%}
            {%- do names.append(spec["name"]) -%}
        {%- endif -%}
        {%- if not spec.get("name") and spec.get("other_columns") != "columns" -%}
            {%- do problems.append("an entry without a name: " ~ entry) -%}
        {%- endif -%}
        {%- set wanted = spec.get("reads", []) -%}
        {%- if spec.get("from") -%}
            {%- set wanted = [[spec["from"], spec.get("type", "text")]] + wanted -%}
        {%- endif -%}
        {%- for raw_name, raw_type in wanted -%}
            {%- if raw_name not in read_types -%}
                {%- do read_types.update({raw_name: raw_type}) -%}
                {%- do reads.append([raw_name, raw_type]) -%}
            {%- elif segment_normalize_type(read_types[raw_name])
                != segment_normalize_type(raw_type) -%}
                {%- do problems.append(
                    "raw column " ~ raw_name ~ " is read as " ~ read_types[raw_name]
                    ~ " and as " ~ raw_type
                ) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do specs.append(spec) -%}
    {%- endfor -%}
    {%- set required = ["source_schema", key, "received_at", "loaded_at"]
        + (["anonymous_id", "user_id"] if device_key else []) -%}
    {%- for name in required if name not in names -%}
        {%- do problems.append("the column list lacks " ~ name) -%}
    {%- endfor -%}
    {%- if others | length > 1 -%}
        {%- do problems.append("more than one other_columns entry") -%}
    {%- endif -%}
    {%- if problems | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            "segment_staging_select: " ~ problems | join("; ")
        ) }}
    {%- endif -%}

    {#- The other columns: trait columns, or one jsonb column. -#}
    {%- set other = others[0] if others | length > 0 else {} -%}
    {%- set exclude = envelope + (reads | map(attribute=0) | list)
        + other.get("exclude", []) -%}
    {%- set traits = [] -%}
    {%- set properties = none -%}
    {%- if other.get("other_columns") == "columns" -%}
        {%- set traits = segment_extra_columns(
            relations,
            exclude=exclude,
            reserved=names,
            prefix=other.get("prefix", "trait_"),
        ) -%}
    {%- endif -%}
    {%- if other.get("other_columns") == "jsonb" -%}
        {%- set properties = {"alias": other["name"], "exclude": exclude} -%}
    {%- endif -%}

    {#- The renamed select and the tie-break, in list order. -#}
    {%- set trait_outputs = [] -%}
    {%- for raw_name, data_type, alias in traits -%}
        {%- do trait_outputs.append({"name": alias, "type": data_type}) -%}
    {%- endfor -%}
    {%- set outputs = [] -%}
    {%- for spec in specs -%}
        {%- if spec.get("other_columns") == "columns" -%}
            {%- do outputs.extend(trait_outputs) -%}
        {%- elif spec.get("other_columns") == "jsonb" -%}
            {%- do outputs.append({"name": spec["name"], "type": "jsonb"}) -%}
        {%- else -%}
            {%- do outputs.append(spec) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set selected = [] -%}
    {%- set names = [] -%}
    {%- set tie_break = [] -%}
    {%- for spec in outputs -%}
        {%- set alias = segment_quote_identifier(spec["name"]) -%}
        {%- do names.append(alias) -%}
        {%- if spec.get("sql") -%}
            {%- set expression = spec["sql"] -%}
        {%- elif spec.get("from") -%}
            {%- set expression = segment_quote_identifier(spec["from"]) -%}
        {%- else -%}
            {%- set expression = alias -%}
        {%- endif -%}
        {%- if spec.get("identity") -%}
            {%- set expression = segment_clean_id(expression) -%}
        {%- endif -%}
        {%- do selected.append(
            expression if expression == alias else expression ~ " as " ~ alias
        ) -%}
        {%- if spec["name"] not in ["source_schema", key, "loaded_at", "received_at"]
            and spec.get("tie_break", true) -%}
            {%- do tie_break.append([spec["name"], spec.get("type", "text")]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set order_by = ["source_schema asc", segment_quote_identifier(key) ~ " asc"] -%}
    {%- if keep == "first" -%}
        {%- do order_by.extend(["loaded_at asc", "received_at asc"]) -%}
    {%- else -%}
        {%- do order_by.extend([
            "loaded_at desc nulls last", "received_at desc nulls last",
        ]) -%}
    {%- endif -%}
    {%- for alias in segment_column_aliases(tie_break, sortable_only=true) -%}
        {%- do order_by.append(alias ~ " asc") -%}
    {%- endfor -%}
    {{ return({
        "union_columns": reads + traits,
        "properties": properties,
        "selected": selected,
        "names": names,
        "key": segment_quote_identifier(key),
        "order_by": order_by,
    }) }}
{% endmacro %}
