{% macro segment_load_watermarks(relation=this, column="loaded_at") %}
    {#-
        Lower bounds for an incremental run, per source schema: the latest load time
        (column, a copy of uuid_ts) already in relation minus
        var('incremental_lookback_hours'), as {schema: timestamptz SQL literal}.
        Computed here so that the planner sees literals. A schema with no row yet is
        absent (read in full); a full build returns {}. Load time, never event time:
        one future-dated event must not hold back later loads.
    -#}
    {%- if not execute or not is_incremental() -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set lookback_hours = var("incremental_lookback_hours") | float -%}
    {%- set query -%}
        select coalesce(json_object_agg(schema_name, bound), '{}')::text
        from (
            select
                requested.schema_name,
                (
                    select max(existing.{{ column }})
                    from {{ relation }} as existing
                    where existing.source_schema = requested.schema_name
                ) - interval '1 hour' * {{ lookback_hours }} as bound
            from unnest({{ segment_schema_array() }}) as requested (schema_name)
        ) as bounds
        where bound is not null
    {%- endset -%}
    {%- set bounds = fromjson(run_query(query).columns[0].values()[0]) -%}
    {%- set literals = {} -%}
    {%- for schema_name, bound in bounds.items() -%}
        {%- do literals.update({
            schema_name: segment_string_literal(bound) ~ "::timestamptz"
        }) -%}
    {%- endfor -%}
    {{ return(literals) }}
{% endmacro %}
