{#- Every version of each assignment a load observed, valid from the API's `updatedAt`; a deletion is a
    version with deleted_at. -#}
{% snapshot assignments_history %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}
select {{ lms.columns_without_dlt(source('lms', 'assignments')) }},
       'updated_at' as validity_clock,
       _dlt_load_id as observed_in_load
from {{ source('lms', 'assignments') }}
{% endsnapshot %}
