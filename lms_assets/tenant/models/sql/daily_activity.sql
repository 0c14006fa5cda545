-- The latest 60 days: daily active users and activities, oldest first.
SELECT d, users, acts FROM (
    SELECT {day} AS d, COUNT(DISTINCT "user") AS users, COUNT(*) AS acts
    FROM {ds}.activities GROUP BY {day} ORDER BY {day} DESC LIMIT 60) recent
ORDER BY d
