select
    audience_id,
    max(audience_name) as audience_name,
    {{ lms.rollup_counts() }}
from {{ ref('assignment_compliance') }}
group by audience_id
