-- Per audience, for the report's chart: most enrolled first.
SELECT COALESCE(audience_name, audience_id, '(none)'), enrolled, complete, open, overdue, scheduled
FROM {ds}.assignment_compliance_by_audience ORDER BY enrolled DESC, 1
