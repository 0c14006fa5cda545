select
    audience_id,
    max(audience_name) as audience_name,
    {{ lms.as_bigint('count(*)') }} as enrolled,
    {{ lms.count_status('complete') }} as complete,
    {{ lms.count_status('open') }} as open,
    {{ lms.count_status('overdue') }} as overdue,
    {{ lms.count_status('scheduled') }} as scheduled,
    cast({{ lms.count_status('complete') }} as {{ lms.type_double() }}) / count(*) as completion_rate,
    {{ lms.as_bigint('max(days_overdue)') }} as max_days_overdue,
    {{ lms.as_bigint('sum(case when is_due_soon then 1 else 0 end)') }} as due_soon
from {{ ref('assignment_compliance') }}
group by audience_id
