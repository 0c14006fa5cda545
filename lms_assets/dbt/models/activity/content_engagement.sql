{#- One row per content item; activities join on context_id; content without activity has zeros. -#}
with per_content as (
    select
        context_id as content_id,
        count(distinct {{ adapter.quote('user') }}) as distinct_users,
        count(*) as activity_count,
        sum(case when type in ('completed', 'passed') then 1 else 0 end) as completed_count,
        count(distinct case when type in ('completed', 'passed') then {{ adapter.quote('user') }} end) as completing_users,
        min(date) as first_activity_at,
        max(date) as last_activity_at
    from {{ source('lms', 'activities') }}
    where context_id is not null
    group by context_id
)

select
    c.id as content_id,
    c.title,
    c.type,
    {{ lms.as_bigint('coalesce(p.distinct_users, 0)') }} as distinct_users,
    {{ lms.as_bigint('coalesce(p.activity_count, 0)') }} as activity_count,
    {{ lms.as_bigint('coalesce(p.completed_count, 0)') }} as completed_count,
    case when coalesce(p.distinct_users, 0) = 0 then null
         else cast(p.completing_users as {{ lms.type_double() }}) / p.distinct_users end as completion_rate,
    p.first_activity_at,
    p.last_activity_at
from {{ source('lms', 'content') }} as c
left join per_content as p on p.content_id = c.id
