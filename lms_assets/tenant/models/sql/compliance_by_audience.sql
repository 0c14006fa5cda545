-- Per audience, for the report's chart: most enrolled first (from the report itself, built or not its roll-ups).
SELECT COALESCE(MAX(audience_name), audience_id, '(none)') AS audience, COUNT(*) AS enrolled,
       SUM(CASE WHEN status = 'complete' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'overdue' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'scheduled' THEN 1 ELSE 0 END)
FROM {ds}.assignment_compliance GROUP BY audience_id ORDER BY enrolled DESC, audience
