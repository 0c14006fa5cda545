-- One row per content item, rebuilt whole; activities join on context_id, content without activity has zeros.
CREATE TABLE IF NOT EXISTS {ds}.content_engagement (
    content_id TEXT NOT NULL PRIMARY KEY,
    title TEXT,
    type TEXT,
    distinct_users BIGINT NOT NULL,
    activity_count BIGINT NOT NULL,
    completed_count BIGINT NOT NULL,
    completion_rate DOUBLE PRECISION,
    first_activity_at TIMESTAMP WITH TIME ZONE,
    last_activity_at TIMESTAMP WITH TIME ZONE
);
DELETE FROM {ds}.content_engagement;
INSERT INTO {ds}.content_engagement (content_id, title, type, distinct_users, activity_count, completed_count,
                                    completion_rate, first_activity_at, last_activity_at)
WITH per_content AS (
    SELECT context_id AS content_id, COUNT(DISTINCT "user") AS distinct_users, COUNT(*) AS activity_count,
           SUM(CASE WHEN type IN ('completed', 'passed') THEN 1 ELSE 0 END) AS completed_count,
           COUNT(DISTINCT CASE WHEN type IN ('completed', 'passed') THEN "user" END) AS completing_users,
           MIN(date) AS first_activity_at, MAX(date) AS last_activity_at
    FROM {ds}.activities WHERE context_id IS NOT NULL GROUP BY context_id
)
SELECT c.id, c.title, c.type, COALESCE(p.distinct_users, 0), COALESCE(p.activity_count, 0),
       COALESCE(p.completed_count, 0),
       CASE WHEN COALESCE(p.distinct_users, 0) = 0 THEN NULL
            ELSE CAST(p.completing_users AS DOUBLE PRECISION) / p.distinct_users END,
       p.first_activity_at, p.last_activity_at
FROM {ds}.content c
LEFT JOIN per_content p ON p.content_id = c.id
