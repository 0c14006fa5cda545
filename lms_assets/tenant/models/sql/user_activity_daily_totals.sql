SELECT COUNT(*), COALESCE(SUM(activity_count), 0) FROM {ds}.user_activity_daily
WHERE activity_date >= DATE '{first_day}' AND activity_date < DATE '{end_day}'
