-- The latest 90 built days: completion rate per audience and overdue per day, oldest first.
SELECT day, audience_id, SUM(complete), SUM(enrolled), SUM(overdue)
FROM {ds}.assignment_compliance_daily
WHERE day > (SELECT MAX(day) FROM {ds}.assignment_compliance_daily) - 90
GROUP BY day, audience_id ORDER BY day, audience_id
