{#- A history's versions of one key follow each other without overlap or gap: each version ends where the next
    begins, and only the last is open. One failing row per version that breaks this. -#}
{% test contiguous_validity(model, key) %}
with ordered as (
    select {{ key }} as k, dbt_valid_from, dbt_valid_to,
           lead(dbt_valid_from) over (partition by {{ key }} order by dbt_valid_from) as next_from
    from {{ model }}
)
select k, dbt_valid_from, dbt_valid_to, next_from
from ordered
where (next_from is null and dbt_valid_to is not null)
   or (next_from is not null and (dbt_valid_to is null or dbt_valid_to <> next_from))
{% endtest %}
