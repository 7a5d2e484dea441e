{% macro segment_extra_columns(relations, exclude, reserved=[], prefix="trait_") %}
    {#-
        The columns found in any of the relations besides exclude and context_*, as
        [name, type, alias] for segment_union_relations(): in order of first
        appearance, with the type reconciled across relations
        (segment_reconcile_type()). A name that is in reserved (the model's own output
        columns) or is source_schema or source_table gets prefix in its alias.
    -#}
    {%- set reserved = reserved + ["source_schema", "source_table"] -%}
    {%- set types = {} -%}
    {%- set names = [] -%}
    {%- for relation in relations -%}
        {%- for name, data_type in relation.columns -%}
            {%- if name not in exclude and not name.startswith("context_") -%}
                {%- if name not in types -%}
                    {%- do names.append(name) -%}
                    {%- do types.update({name: []}) -%}
                {%- endif -%}
                {%- do types[name].append(data_type) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set taken = names + reserved -%}
    {%- set columns = [] -%}
    {%- for name in names -%}
        {%- set state = namespace(alias=name) -%}
        {%- if name in reserved -%}
            {%- set state.alias = prefix ~ name -%}
            {%- for attempt in range(10) if state.alias in taken -%}
                {%- set state.alias = prefix ~ state.alias -%}
            {%- endfor -%}
            {%- do taken.append(state.alias) -%}
        {%- endif -%}
        {%- set data_type = segment_reconcile_type(types[name]) -%}
        {%- do columns.append([name, data_type, state.alias]) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}
