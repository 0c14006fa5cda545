SELECT content_id, title, distinct_users, activity_count, completion_rate
FROM {ds}.content_engagement ORDER BY distinct_users DESC, activity_count DESC, content_id LIMIT {limit}
