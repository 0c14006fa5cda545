-- Replace exactly the rows of the UTC days in [start, end).
CREATE TABLE IF NOT EXISTS {ds}.user_activity_daily (
    user_id TEXT NOT NULL,
    activity_date DATE NOT NULL,
    activity_count BIGINT NOT NULL,
    completed_count BIGINT NOT NULL,
    distinct_contents BIGINT NOT NULL,
    PRIMARY KEY (user_id, activity_date)
);
DELETE FROM {ds}.user_activity_daily
WHERE activity_date >= DATE '{first_day}' AND activity_date < DATE '{end_day}';
INSERT INTO {ds}.user_activity_daily
SELECT "user", {day}, COUNT(*),
       SUM(CASE WHEN type = 'completed' THEN 1 ELSE 0 END),
       COUNT(DISTINCT context_id)
FROM {ds}.activities
WHERE "user" IS NOT NULL AND {window}
GROUP BY "user", {day}
