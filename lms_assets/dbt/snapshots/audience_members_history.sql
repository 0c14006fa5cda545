{#- Audience memberships carry no instant of change: a version is valid from the snapshot that observed it,
    right after the load (the check strategy over every column the API sends; is_deleted when no longer listed). -#}
{% snapshot audience_members_history %}
{{ config(unique_key=['audience_id', 'user_id'], strategy='check', check_cols='all') }}
select {{ lms.columns_without_dlt(source('lms', 'audience_members')) }},
       'load' as validity_clock
from {{ source('lms', 'audience_members') }}
{% endsnapshot %}
