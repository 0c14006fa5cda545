-- The team's own model on top of the package's: learners active on at least two days.
select user_id, activity_count, active_days
from {{ ref('lms', 'user_activity_summary') }}
where active_days >= 2 and not is_deleted
