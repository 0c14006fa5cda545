{#- Incremental by partition: a run with lms_first_day/lms_end_day (a partition window of UTC days) deletes
    exactly those days and inserts them again in one transaction, so days that lost every row go too and the
    days outside the window are untouched. Without the vars it builds every day. -#}
{%- set first_day = lms.setting('lms_first_day') -%}
{%- set end_day = lms.setting('lms_end_day') -%}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['user_id', 'activity_date'],
    on_schema_change='fail',
    pre_hook=(
        "{% if is_incremental() and lms.setting('lms_first_day') %}"
        "delete from {{ this }} where activity_date >= {{ lms.date_literal(lms.setting('lms_first_day')) }}"
        " and activity_date < {{ lms.date_literal(lms.setting('lms_end_day')) }}{% endif %}"
    ),
) }}

select
    {{ adapter.quote('user') }} as user_id,
    {{ lms.utc_date('date') }} as activity_date,
    {{ lms.as_bigint('count(*)') }} as activity_count,
    {{ lms.as_bigint("sum(case when type = 'completed' then 1 else 0 end)") }} as completed_count,
    {{ lms.as_bigint('count(distinct context_id)') }} as distinct_contents
from {{ source('lms', 'activities') }}
where {{ adapter.quote('user') }} is not null
{%- if first_day %}
  and date >= {{ lms.timestamp_tz_literal(first_day ~ 'T00:00:00+00:00') }}
  and date < {{ lms.timestamp_tz_literal(end_day ~ 'T00:00:00+00:00') }}
{%- endif %}
group by {{ adapter.quote('user') }}, {{ lms.utc_date('date') }}
