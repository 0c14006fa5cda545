SELECT COUNT(*), COALESCE(SUM(overdue), 0) FROM {ds}.assignment_compliance_daily
WHERE day >= DATE '{first_day}' AND day < DATE '{end_day}'
