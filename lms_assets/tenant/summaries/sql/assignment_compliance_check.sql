-- The report against the enrolments it is built from: rows, and each status, three ways.
WITH source AS (
    SELECT e.status FROM {ds}.enrolments e JOIN {ds}.assignments a ON a.id = e.assignment_id
    WHERE COALESCE(e.status, '') <> 'archived' AND COALESCE(a.is_deleted, FALSE) = FALSE
)
SELECT (SELECT COUNT(*) FROM source),
       (SELECT COUNT(*) FROM {ds}.assignment_compliance),
       (SELECT COALESCE(SUM(enrolled), 0) FROM {ds}.assignment_compliance_by_audience),
       (SELECT COALESCE(SUM(enrolled), 0) FROM {ds}.assignment_compliance_by_assignment),
       (SELECT COUNT(*) FROM source WHERE status = 'complete'),
       (SELECT COALESCE(SUM(complete), 0) FROM {ds}.assignment_compliance_by_assignment),
       (SELECT COUNT(*) FROM source WHERE status = 'overdue'),
       (SELECT COALESCE(SUM(overdue), 0) FROM {ds}.assignment_compliance_by_audience),
       (SELECT COUNT(*) FROM source WHERE status = 'open'),
       (SELECT COALESCE(SUM(open), 0) FROM {ds}.assignment_compliance_by_assignment)
