SELECT user_id, email, activity_count, active_days, last_activity_type
FROM {ds}.user_activity_summary ORDER BY activity_count DESC, user_id LIMIT {limit}
