-- (rows, distinct content ids, content items, summed activity_count, activities that reference known content)
SELECT (SELECT COUNT(*) FROM lms.content_engagement),
       (SELECT COUNT(DISTINCT content_id) FROM lms.content_engagement),
       (SELECT COUNT(DISTINCT id) FROM lms.content),
       (SELECT COALESCE(SUM(activity_count), 0) FROM lms.content_engagement),
       (SELECT COUNT(*) FROM lms.activities a WHERE a.context_id IN (SELECT id FROM lms.content))
