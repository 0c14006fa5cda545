{#- The daily table's activity_count, per day it covers, equals the activities of known users on that UTC day:
    one failing row per day that differs. -#}
{% test sums_to_known_user_activities(model) %}
with modelled as (
    select activity_date, sum(activity_count) as summed from {{ model }} group by activity_date
),
source_days as (
    select {{ lms.utc_date('date') }} as activity_date, count(*) as activities
    from {{ source('lms', 'activities') }}
    where {{ adapter.quote('user') }} is not null
    group by {{ lms.utc_date('date') }}
)
select m.activity_date, m.summed, coalesce(s.activities, 0) as activities
from modelled as m
left join source_days as s on s.activity_date = m.activity_date
where m.summed <> coalesce(s.activities, 0)
{% endtest %}
