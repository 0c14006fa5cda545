{#- One row per user of the users table, deleted ones included; personal columns follow the policy. -#}
{%- set users = source('lms', 'users') -%}
with activities as (
    select {{ adapter.quote('user') }} as user_id, id, type, date
    from {{ source('lms', 'activities') }}
    where {{ adapter.quote('user') }} is not null
),

per_user as (
    select
        user_id,
        count(*) as activity_count,
        count(distinct {{ lms.utc_date('date') }}) as active_days,
        min(date) as first_activity_at,
        max(date) as last_activity_at
    from activities
    group by user_id
),

ranked as (
    select user_id, type, row_number() over (partition by user_id order by date desc, id desc) as rn
    from activities
)

select
    u.id as user_id,
    {{ lms.personal_column(users, 'email', 'u') }} as email,
    {{ lms.personal_column(users, 'first_name', 'u') }} as first_name,
    {{ lms.personal_column(users, 'last_name', 'u') }} as last_name,
    {{ lms.as_bigint('coalesce(p.activity_count, 0)') }} as activity_count,
    {{ lms.as_bigint('coalesce(p.active_days, 0)') }} as active_days,
    p.first_activity_at,
    p.last_activity_at,
    r.type as last_activity_type,
    coalesce(u.is_deleted, false) as is_deleted
from {{ users }} as u
left join per_user as p on p.user_id = u.id
left join ranked as r on r.user_id = u.id and r.rn = 1
