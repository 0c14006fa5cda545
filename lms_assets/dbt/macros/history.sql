{# The columns of a loaded table without dlt's own (`_dlt_load_id` changes on every merge of an unchanged row). #}
{% macro columns_without_dlt(relation) -%}
  {%- set names = [] -%}
  {%- if execute -%}
    {%- for c in adapter.get_columns_in_relation(relation) if not c.name.startswith('_dlt_') -%}
      {%- do names.append(adapter.quote(c.name)) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(names | join(', ') if names else '*') }}
{%- endmacro %}

{# The UTC days [first, end) as rows (day DATE, day_end: the next day's 00:00:00Z), from YYYY-MM-DD strings. #}
{% macro day_series(first, end) -%}
  {#- Without vars (a build by hand): from the day history began to yesterday, UTC. -#}
  {%- if execute and not first -%}{%- set first = lms.history_began() -%}{%- endif -%}
  {%- if execute and not end -%}{%- set end = modules.datetime.datetime.utcnow().date().isoformat() -%}{%- endif -%}
  {%- if first and end and first < end -%}
    {%- set start = modules.datetime.date.fromisoformat(first) -%}
    {%- set stop = modules.datetime.date.fromisoformat(end) -%}
    {%- for i in range((stop - start).days) -%}
      {%- set day = start + modules.datetime.timedelta(days=i) -%}
      {%- set next = day + modules.datetime.timedelta(days=1) -%}
      select {{ lms.date_literal(day.isoformat()) }} as day, {{ lms.timestamp_tz_literal(next.isoformat() ~ 'T00:00:00+00:00') }} as day_end
      {% if not loop.last %}union all{% endif %}
    {% endfor -%}
  {%- else -%}
    select {{ lms.date_literal('1970-01-01') }} as day, {{ lms.timestamp_tz_literal('1970-01-02T00:00:00+00:00') }} as day_end
    where 1 = 0
  {%- endif -%}
{%- endmacro %}

{# Without vars (a build by hand): the day history began, as lms_assets/tenant/models/history.py reckons it, the
   day of the newest updatedAt the first recorded load brought. #}
{% macro history_began() -%}
  {%- set h = ref('enrolments_history') -%}
  {%- if adapter.get_relation(database=h.database, schema=h.schema, identifier=h.identifier) is none -%}
    {{ return(none) }}  {#- no history yet (or `dbt docs generate` before any snapshot): no days -#}
  {%- endif -%}
  {%- set found = run_query("select cast(max(dbt_valid_from) as " ~ dbt.type_string() ~ ") from " ~ h
                            ~ " where observed_in_load = (select min(observed_in_load) from " ~ h ~ ")") -%}
  {%- set value = found.columns[0].values()[0] if found and found.columns[0].values() else none -%}
  {{ return(value[:10] if value else none) }}
{%- endmacro %}
