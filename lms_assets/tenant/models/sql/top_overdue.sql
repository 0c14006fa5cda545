-- The longest overdue enrolments, for the report's metadata.
SELECT user_id, user_email, content_title, audience_name, due_date, days_overdue
FROM {ds}.assignment_compliance WHERE status = 'overdue'
ORDER BY days_overdue DESC, enrolment_id LIMIT {limit}
