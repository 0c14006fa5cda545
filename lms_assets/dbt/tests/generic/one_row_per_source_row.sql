{#- The model has a row for each row of a source table (its key column `source_key`): one failing row per key
    missing from the model. -#}
{% test one_row_per_source_row(model, column_name, source_table, source_key='id') %}
select s.{{ source_key }} as missing_key
from {{ source('lms', source_table) }} as s
left join {{ model }} as m on m.{{ column_name }} = s.{{ source_key }}
where m.{{ column_name }} is null
{% endtest %}
