{#- Users carry no instant of change the history can trust for every field: a version is valid from the
    snapshot that observed it (the check strategy over every column the API sends). -#}
{% snapshot users_history %}
{{ config(unique_key='id', strategy='check', check_cols='all') }}
select {{ lms.columns_without_dlt(source('lms', 'users')) }},
       'load' as validity_clock
from {{ source('lms', 'users') }}
{% endsnapshot %}
