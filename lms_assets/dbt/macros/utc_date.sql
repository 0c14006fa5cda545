{# The UTC calendar day of a timestamp-with-time-zone column, whatever the session's time zone. #}
{% macro utc_date(column) -%}
  {{ return(adapter.dispatch('utc_date', 'lms')(column)) }}
{%- endmacro %}

{% macro default__utc_date(column) -%}
  cast(({{ column }} at time zone 'UTC') as date)
{%- endmacro %}

{% macro snowflake__utc_date(column) -%}
  to_date(convert_timezone('UTC', {{ column }}))
{%- endmacro %}

{% macro bigquery__utc_date(column) -%}
  date({{ column }}, 'UTC')
{%- endmacro %}

{% macro databricks__utc_date(column) -%}
  to_date(to_utc_timestamp({{ column }}, current_timezone()))
{%- endmacro %}

{# A timestamp-with-time-zone literal from an ISO 8601 string with its offset. #}
{% macro timestamp_tz_literal(value) -%}
  {{ return(adapter.dispatch('timestamp_tz_literal', 'lms')(value)) }}
{%- endmacro %}

{% macro default__timestamp_tz_literal(value) -%}
  cast('{{ value }}' as {{ lms.type_timestamp_tz() }})
{%- endmacro %}

{% macro type_timestamp_tz() -%}
  {{ return(adapter.dispatch('type_timestamp_tz', 'lms')()) }}
{%- endmacro %}

{% macro default__type_timestamp_tz() -%}timestamp with time zone{%- endmacro %}
{% macro snowflake__type_timestamp_tz() -%}timestamp_tz{%- endmacro %}
{% macro bigquery__type_timestamp_tz() -%}timestamp{%- endmacro %}
{% macro databricks__type_timestamp_tz() -%}timestamp{%- endmacro %}

{# The run's instant: the `lms_as_of` var (set by Dagster, one instant for the whole report), else now. #}
{% macro as_of() -%}
  {%- if lms.setting('lms_as_of') -%}{{ lms.timestamp_tz_literal(lms.setting('lms_as_of')) }}
  {%- else -%}{{ dbt.current_timestamp() }}{%- endif -%}
{%- endmacro %}

{# A DATE literal from YYYY-MM-DD. #}
{% macro date_literal(value) -%}
  cast('{{ value }}' as date)
{%- endmacro %}
