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
  {%- if not first or not end -%}
    {%- if execute -%}
      {{ exceptions.raise_compiler_error("assignment_compliance_daily builds a window of days: set the vars lms_first_day and lms_end_day (YYYY-MM-DD, end exclusive).") }}
    {%- endif -%}
    select {{ lms.date_literal('1970-01-01') }} as day, {{ lms.timestamp_tz_literal('1970-01-02T00:00:00+00:00') }} as day_end
    {{ return('') }}
  {%- endif -%}
  {%- set start = modules.datetime.date.fromisoformat(first) -%}
  {%- set stop = modules.datetime.date.fromisoformat(end) -%}
  {%- set count = (stop - start).days -%}
  {%- for i in range(count) -%}
    {%- set day = start + modules.datetime.timedelta(days=i) -%}
    {%- set next = day + modules.datetime.timedelta(days=1) -%}
    select {{ lms.date_literal(day.isoformat()) }} as day, {{ lms.timestamp_tz_literal(next.isoformat() ~ 'T00:00:00+00:00') }} as day_end
    {% if not loop.last %}union all{% endif %}
  {% endfor -%}
{%- endmacro %}
