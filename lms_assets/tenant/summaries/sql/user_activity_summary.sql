-- One row per user, rebuilt whole. Tables created before `is_deleted` gain it. Personal columns the
-- PII policy dropped from {ds}.users arrive as NULL ({email} etc. are the column or NULL).
CREATE TABLE IF NOT EXISTS {ds}.user_activity_summary (
    user_id TEXT NOT NULL PRIMARY KEY,
    email TEXT,
    first_name TEXT,
    last_name TEXT,
    activity_count BIGINT NOT NULL,
    active_days BIGINT NOT NULL,
    first_activity_at TIMESTAMP WITH TIME ZONE,
    last_activity_at TIMESTAMP WITH TIME ZONE,
    last_activity_type TEXT,
    is_deleted BOOLEAN NOT NULL
);
ALTER TABLE {ds}.user_activity_summary ADD COLUMN IF NOT EXISTS is_deleted BOOLEAN;
DELETE FROM {ds}.user_activity_summary;
INSERT INTO {ds}.user_activity_summary (user_id, email, first_name, last_name, activity_count, active_days,
                                       first_activity_at, last_activity_at, last_activity_type, is_deleted)
WITH per_user AS (
    SELECT "user" AS user_id, COUNT(*) AS activity_count,
           COUNT(DISTINCT {day}) AS active_days,
           MIN(date) AS first_activity_at, MAX(date) AS last_activity_at
    FROM {ds}.activities WHERE "user" IS NOT NULL GROUP BY "user"
), ranked AS (
    SELECT "user" AS user_id, type,
           ROW_NUMBER() OVER (PARTITION BY "user" ORDER BY date DESC, id DESC) AS rn
    FROM {ds}.activities WHERE "user" IS NOT NULL
)
SELECT u.id, {email}, {first_name}, {last_name},
       COALESCE(p.activity_count, 0), COALESCE(p.active_days, 0),
       p.first_activity_at, p.last_activity_at, r.type, COALESCE(u.is_deleted, FALSE)
FROM {ds}.users u
LEFT JOIN per_user p ON p.user_id = u.id
LEFT JOIN ranked r ON r.user_id = u.id AND r.rn = 1
