{# Enrolments of one status in a group, as a whole number. #}
{% macro count_status(status) -%}
  cast(sum(case when status = '{{ status }}' then 1 else 0 end) as {{ dbt.type_bigint() }})
{%- endmacro %}

{# A count or sum as a whole number of the warehouse's BIGINT (DuckDB sums to HUGEINT otherwise). #}
{% macro as_bigint(expression) -%}
  cast({{ expression }} as {{ dbt.type_bigint() }})
{%- endmacro %}

{# A rate as a double-precision number (dbt.type_float() is single precision on DuckDB). #}
{% macro type_double() -%}
  {{ return(adapter.dispatch('type_double', 'lms')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}
{% macro bigquery__type_double() -%}float64{%- endmacro %}
{% macro snowflake__type_double() -%}float{%- endmacro %}
{% macro databricks__type_double() -%}double{%- endmacro %}

{# A run setting: the dbt var `name` when given (`--vars`, or a project that installs the package), else the
   environment variable LMS_DBT_<NAME> that Dagster sets per invocation. Dagster passes the window and as_of
   through the environment because dbt re-parses only the files that read a changed env var, while a change
   of --vars re-parses the whole project (1.8 s of every run). #}
{% macro setting(name, default=none) -%}
  {%- set given = var(name, none) -%}
  {%- if given is not none -%}{{ return(given) }}{%- endif -%}
  {{ return(env_var('LMS_DBT_' ~ (name | upper)[4:], '') or default) }}
{%- endmacro %}

{# The roll-ups' columns: the report's enrolments of a group counted by status. #}
{% macro rollup_counts() -%}
    {{ lms.as_bigint('count(*)') }} as enrolled,
    {{ lms.count_status('complete') }} as complete,
    {{ lms.count_status('open') }} as open,
    {{ lms.count_status('overdue') }} as overdue,
    {{ lms.count_status('scheduled') }} as scheduled,
    cast({{ lms.count_status('complete') }} as {{ lms.type_double() }}) / count(*) as completion_rate,
    {{ lms.as_bigint('max(days_overdue)') }} as max_days_overdue,
    {{ lms.as_bigint('sum(case when is_due_soon then 1 else 0 end)') }} as due_soon
{%- endmacro %}
