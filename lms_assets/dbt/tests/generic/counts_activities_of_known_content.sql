{#- content_engagement's activity_count, summed, equals the activities that reference known content: one
    failing row when it does not. -#}
{% test counts_activities_of_known_content(model) %}
with summed as (select coalesce(sum(activity_count), 0) as n from {{ model }}),
referencing as (
    select count(*) as n from {{ source('lms', 'activities') }}
    where context_id in (select id from {{ source('lms', 'content') }})
)
select summed.n as summed, referencing.n as referencing
from summed cross join referencing
where summed.n <> referencing.n
{% endtest %}
