-- Rebuilt whole, in one transaction: one row per enrolment that is not archived (of an assignment not
-- deleted), then the same rolled up per audience and per assignment. {as_of} is the run's instant, kept in
-- every row, so days_overdue can be recomputed; {email} etc. are the users' columns or NULL (PII policy).
CREATE TABLE IF NOT EXISTS {ds}.assignment_compliance (
    enrolment_id TEXT NOT NULL PRIMARY KEY,
    assignment_id TEXT NOT NULL,
    user_id TEXT,
    user_email TEXT,
    user_first_name TEXT,
    user_last_name TEXT,
    user_is_deleted BOOLEAN,
    audience_id TEXT,
    audience_name TEXT,
    content_id TEXT,
    content_title TEXT,
    status TEXT,
    available_date TIMESTAMP WITH TIME ZONE,
    due_date TIMESTAMP WITH TIME ZONE,
    last_completed_at TIMESTAMP WITH TIME ZONE,
    days_overdue BIGINT NOT NULL,
    as_of TIMESTAMP WITH TIME ZONE NOT NULL
);
DELETE FROM {ds}.assignment_compliance;
INSERT INTO {ds}.assignment_compliance
SELECT e.id, e.assignment_id, e.user_id, {email}, {first_name}, {last_name}, u.is_deleted,
       COALESCE(e.audience_id, a.audience_id), au.name,
       COALESCE(e.primary_content_id, a.primary_content_id), c.title,
       e.status, e.available_date, e.due_date, e.last_completed_at,
       CASE WHEN e.status IN ('open', 'overdue') AND e.due_date < {as_of}
            THEN CAST(FLOOR((EXTRACT(EPOCH FROM {as_of}) - EXTRACT(EPOCH FROM e.due_date)) / 86400) AS BIGINT)
            ELSE 0 END,
       {as_of}
FROM {ds}.enrolments e
JOIN {ds}.assignments a ON a.id = e.assignment_id
LEFT JOIN {ds}.users u ON u.id = e.user_id
LEFT JOIN {ds}.audiences au ON au.id = COALESCE(e.audience_id, a.audience_id)
LEFT JOIN {ds}.content c ON c.id = COALESCE(e.primary_content_id, a.primary_content_id)
WHERE COALESCE(e.status, '') <> 'archived' AND COALESCE(a.is_deleted, FALSE) = FALSE;
CREATE TABLE IF NOT EXISTS {ds}.assignment_compliance_by_audience (
    audience_id TEXT,
    audience_name TEXT,
    enrolled BIGINT NOT NULL,
    complete BIGINT NOT NULL,
    open BIGINT NOT NULL,
    overdue BIGINT NOT NULL,
    scheduled BIGINT NOT NULL,
    completion_rate DOUBLE PRECISION,
    max_days_overdue BIGINT NOT NULL
);
DELETE FROM {ds}.assignment_compliance_by_audience;
INSERT INTO {ds}.assignment_compliance_by_audience
SELECT audience_id, MAX(audience_name), COUNT(*),
       SUM(CASE WHEN status = 'complete' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'overdue' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'scheduled' THEN 1 ELSE 0 END),
       CAST(SUM(CASE WHEN status = 'complete' THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / COUNT(*),
       MAX(days_overdue)
FROM {ds}.assignment_compliance GROUP BY audience_id;
CREATE TABLE IF NOT EXISTS {ds}.assignment_compliance_by_assignment (
    assignment_id TEXT NOT NULL PRIMARY KEY,
    audience_id TEXT,
    content_id TEXT,
    content_title TEXT,
    enrolled BIGINT NOT NULL,
    complete BIGINT NOT NULL,
    open BIGINT NOT NULL,
    overdue BIGINT NOT NULL,
    scheduled BIGINT NOT NULL,
    completion_rate DOUBLE PRECISION,
    max_days_overdue BIGINT NOT NULL
);
DELETE FROM {ds}.assignment_compliance_by_assignment;
INSERT INTO {ds}.assignment_compliance_by_assignment
SELECT assignment_id, MAX(audience_id), MAX(content_id), MAX(content_title), COUNT(*),
       SUM(CASE WHEN status = 'complete' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'overdue' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'scheduled' THEN 1 ELSE 0 END),
       CAST(SUM(CASE WHEN status = 'complete' THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / COUNT(*),
       MAX(days_overdue)
FROM {ds}.assignment_compliance GROUP BY assignment_id
