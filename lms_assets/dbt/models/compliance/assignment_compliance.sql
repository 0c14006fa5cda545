{#- One row per enrolment that is not archived, of an assignment not deleted. days_overdue counts whole days
    past the due date while open or overdue, at the run's instant (as_of, kept in every row). -#}
{%- set users = source('lms', 'users') -%}
{%- set as_of = lms.as_of() -%}
select
    e.id as enrolment_id,
    e.assignment_id,
    e.user_id,
    {{ lms.personal_column(users, 'email', 'u') }} as user_email,
    {{ lms.personal_column(users, 'first_name', 'u') }} as user_first_name,
    {{ lms.personal_column(users, 'last_name', 'u') }} as user_last_name,
    u.is_deleted as user_is_deleted,
    coalesce(e.audience_id, a.audience_id) as audience_id,
    au.name as audience_name,
    coalesce(e.primary_content_id, a.primary_content_id) as content_id,
    c.title as content_title,
    e.status,
    e.available_date,
    e.due_date,
    e.last_completed_at,
    case when e.status in ('open', 'overdue') and e.due_date < {{ as_of }}
         then cast(floor({{ dbt.datediff('e.due_date', as_of, 'second') }} / 86400.0) as {{ dbt.type_bigint() }})
         else 0 end as days_overdue,
    {{ as_of }} as as_of,
    e.status = 'open' and e.due_date >= {{ as_of }}
        and e.due_date < {{ dbt.dateadd('day', lms.setting('lms_due_soon_days', 14), as_of) }} as is_due_soon
from {{ source('lms', 'enrolments') }} as e
inner join {{ source('lms', 'assignments') }} as a on a.id = e.assignment_id
left join {{ users }} as u on u.id = e.user_id
left join {{ source('lms', 'audiences') }} as au on au.id = coalesce(e.audience_id, a.audience_id)
left join {{ source('lms', 'content') }} as c on c.id = coalesce(e.primary_content_id, a.primary_content_id)
where coalesce(e.status, '') <> 'archived'
  and coalesce(a.is_deleted, false) = false
