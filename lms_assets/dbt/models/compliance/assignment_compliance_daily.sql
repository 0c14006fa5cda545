{#- The compliance report as it stood at the end of each UTC day, from the history: each enrolment's latest
    version with updatedAt before the next day's 00:00:00Z, leaving out archived enrolments and those of
    assignments deleted by then (their deletedAt). Incremental by partition like user_activity_daily: a run
    replaces exactly the days [lms_first_day, lms_end_day); without them (dbt by hand) it rebuilds every day
    from the day history began to yesterday. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['day', 'assignment_id', 'audience_id'],
    on_schema_change='fail',
    pre_hook=(
        "{% if is_incremental() and lms.setting('lms_first_day') %}"
        "delete from {{ this }} where day >= {{ lms.date_literal(lms.setting('lms_first_day')) }}"
        " and day < {{ lms.date_literal(lms.setting('lms_end_day')) }}"
        "{% elif is_incremental() %}delete from {{ this }}{% endif %}"
    ),
) }}

with days as (
    {{ lms.day_series(lms.setting('lms_first_day'), lms.setting('lms_end_day')) }}
),

enrolments as (
    select d.day, d.day_end, e.id, e.assignment_id, e.audience_id, e.status
    from days as d
    inner join {{ ref('enrolments_history') }} as e
        on e.dbt_valid_from < d.day_end and (e.dbt_valid_to is null or e.dbt_valid_to >= d.day_end)
),

assignments as (
    select d.day, a.id, a.audience_id, a.deleted_at
    from days as d
    inner join {{ ref('assignments_history') }} as a
        on a.dbt_valid_from < d.day_end and (a.dbt_valid_to is null or a.dbt_valid_to >= d.day_end)
),

live as (
    select e.day, e.assignment_id, coalesce(e.audience_id, a.audience_id) as audience_id, e.status
    from enrolments as e
    left join assignments as a on a.day = e.day and a.id = e.assignment_id
    where coalesce(e.status, '') <> 'archived'
      and (a.deleted_at is null or a.deleted_at >= e.day_end)
)

select
    day,
    assignment_id,
    audience_id,
    {{ lms.as_bigint('count(*)') }} as enrolled,
    {{ lms.count_status('complete') }} as complete,
    {{ lms.count_status('open') }} as open,
    {{ lms.count_status('overdue') }} as overdue,
    {{ lms.count_status('scheduled') }} as scheduled,
    cast({{ lms.count_status('complete') }} as {{ lms.type_double() }}) / count(*) as completion_rate
from live
group by day, assignment_id, audience_id
