-- Active learners: users with activity who are not deleted.
SELECT COUNT(*),
       SUM(CASE WHEN activity_count > 0 AND NOT is_deleted THEN 1 ELSE 0 END),
       SUM(CASE WHEN is_deleted THEN 1 ELSE 0 END)
FROM {ds}.user_activity_summary
