-- sum(activity_count) of the daily table against the known-user activities of the days it covers.
SELECT (SELECT COALESCE(SUM(activity_count), 0) FROM {ds}.user_activity_daily),
       (SELECT COUNT(*) FROM {ds}.activities a
        WHERE a."user" IS NOT NULL
          AND {day} IN (SELECT DISTINCT activity_date FROM {ds}.user_activity_daily))
