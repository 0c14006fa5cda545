select
    assignment_id,
    max(audience_id) as audience_id,
    max(content_id) as content_id,
    max(content_title) as content_title,
    {{ lms.rollup_counts() }}
from {{ ref('assignment_compliance') }}
group by assignment_id
