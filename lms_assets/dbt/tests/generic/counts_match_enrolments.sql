{#- Enrolments per status in `model` (the report, or a roll-up with one count column per status) equal the
    enrolments the report is built from (not archived, of assignments not deleted): one failing row per status
    that differs. -#}
{% test counts_match_enrolments(model, rolled_up=false) %}
with source_rows as (
    select e.status
    from {{ source('lms', 'enrolments') }} as e
    inner join {{ source('lms', 'assignments') }} as a on a.id = e.assignment_id
    where coalesce(e.status, '') <> 'archived' and coalesce(a.is_deleted, false) = false
),
expected as (
    {%- for status in ['complete', 'open', 'overdue', 'scheduled', 'enrolled'] %}
    select '{{ status }}' as status,
           {% if status == 'enrolled' %}count(*){% else %}sum(case when status = '{{ status }}' then 1 else 0 end){% endif %} as n
    from source_rows
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
),
actual as (
    {%- for status in ['complete', 'open', 'overdue', 'scheduled', 'enrolled'] %}
    select '{{ status }}' as status,
    {%- if rolled_up %} sum({{ adapter.quote(status) }}) as n
    {%- elif status == 'enrolled' %} count(*) as n
    {%- else %} sum(case when status = '{{ status }}' then 1 else 0 end) as n
    {%- endif %}
    from {{ model }}
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
)
select e.status, e.n as enrolments, a.n as counted
from expected as e
inner join actual as a on a.status = e.status
where coalesce(e.n, 0) <> coalesce(a.n, 0)
{% endtest %}
