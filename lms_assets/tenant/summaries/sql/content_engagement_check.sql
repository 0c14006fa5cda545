-- (rows, distinct content ids, content items, summed activity_count, activities that reference known content)
SELECT (SELECT COUNT(*) FROM {ds}.content_engagement),
       (SELECT COUNT(DISTINCT content_id) FROM {ds}.content_engagement),
       (SELECT COUNT(DISTINCT id) FROM {ds}.content),
       (SELECT COALESCE(SUM(activity_count), 0) FROM {ds}.content_engagement),
       (SELECT COUNT(*) FROM {ds}.activities a WHERE a.context_id IN (SELECT id FROM {ds}.content))
