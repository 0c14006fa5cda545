-- The open enrolments due soonest, for the report's metadata.
SELECT user_id, user_email, content_title, audience_name, due_date
FROM {ds}.assignment_compliance WHERE is_due_soon
ORDER BY due_date, enrolment_id LIMIT {limit}
