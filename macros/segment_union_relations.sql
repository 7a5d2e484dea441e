{% macro segment_union_relations(relations, columns, properties=none, watermarks={}) %}
    {#-
        A union all over the given relations (segment_relations() entries) with one
        fixed set of typed columns, so that schemas with different columns line up:

        - source_schema and source_table (text literals) come first;
        - columns: [name, type] or [name, type, alias]; a column a relation lacks is a
          typed null, one of another type (or spelling: varchar(1024) for text) is
          read as the given type by segment_cast(), which never fails the query (a
          value it cannot read is null);
        - properties: none, or {"alias": ..., "exclude": [names]}: a jsonb object of
          every other column of the relation (not in columns, not in exclude, not
          context_*), nulls stripped, {} when there is none;
        - rows with a null id are left out; watermarks ({schema: lower bound literal},
          from segment_load_watermarks()) keep rows with uuid_ts above the bound.

        With no relation at all it selects no row but still has every column.
        A default table of the first schema is read through source('segment', ...),
        which is what lets dbt unit tests replace it with fixture rows.
    -#}
    {%- set first_schema = segment_schema_names()[0] if execute else none -%}
    {%- set defaults = segment_default_tables() -%}
    {%- set declared = columns | map(attribute=0) | list -%}
    {%- set selects = [] -%}
    {%- for relation in relations -%}
        {%- set available = {} -%}
        {%- for name, data_type in relation.columns -%}
            {%- do available.update({name: data_type | lower}) -%}
        {%- endfor -%}
        {%- set targets = [
            segment_string_literal(relation.schema) ~ "::text as source_schema",
            segment_string_literal(relation.table) ~ "::text as source_table",
        ] -%}
        {%- for column in columns -%}
            {%- set name = column[0] -%}
            {%- set data_type = segment_normalize_type(column[1]) -%}
            {%- set alias = column[2] if column | length > 2 else name -%}
            {%- set alias = segment_quote_identifier(alias) -%}
            {%- if name not in available -%}
                {%- set expression = "null::" ~ data_type -%}
            {%- elif available[name] == data_type -%}
                {%- set expression = segment_quote_identifier(name) -%}
            {%- else -%}
                {%- set expression = segment_cast(
                    segment_quote_identifier(name), available[name], data_type
                ) -%}
            {%- endif -%}
            {%- do targets.append(
                expression if expression == alias else expression ~ " as " ~ alias
            ) -%}
        {%- endfor -%}
        {%- if properties -%}
            {%- do targets.append(
                segment_properties_object(relation, declared + properties.exclude)
                ~ " as " ~ properties.alias
            ) -%}
        {%- endif -%}
        {%- set conditions = [
            ("id" if "id" in available else "null") ~ " is not null",
        ] -%}
        {%- if watermarks.get(relation.schema) and "uuid_ts" in available -%}
            {%- do conditions.append(
                "(uuid_ts > " ~ watermarks[relation.schema] ~ " or uuid_ts is null)"
            ) -%}
        {%- endif -%}
        {%- if relation.schema == first_schema and relation.table in defaults -%}
            {%- set from_relation = source("segment", relation.table) -%}
        {%- else -%}
            {%- set from_relation = api.Relation.create(
                database=target.database,
                schema=relation.schema,
                identifier=relation.table,
            ) -%}
        {%- endif -%}
        {%- do selects.append(
            "select\n        " ~ targets | join(",\n        ")
            ~ "\n    from " ~ from_relation
            ~ "\n    where\n        " ~ conditions | join("\n        and ")
        ) -%}
    {%- endfor -%}
    {%- if selects | length == 0 -%}
        {%- set targets = [
            "null::text as source_schema", "null::text as source_table",
        ] -%}
        {%- for column in columns -%}
            {%- do targets.append(
                "null::" ~ segment_normalize_type(column[1]) ~ " as "
                ~ segment_quote_identifier(column[2] if column | length > 2 else column[0])
            ) -%}
        {%- endfor -%}
        {%- if properties -%}
            {%- do targets.append("'{}'::jsonb as " ~ properties.alias) -%}
        {%- endif -%}
        {%- do selects.append(
            "select\n        " ~ targets | join(",\n        ") ~ "\n    where false"
        ) -%}
    {%- endif %}
    {{ selects | join("\n\n    union all\n\n    ") }}
{% endmacro %}
