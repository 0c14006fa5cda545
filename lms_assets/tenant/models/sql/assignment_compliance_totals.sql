-- Totals of the report: rows, complete, overdue.
SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'complete' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN status = 'overdue' THEN 1 ELSE 0 END), 0)
FROM {ds}.assignment_compliance
