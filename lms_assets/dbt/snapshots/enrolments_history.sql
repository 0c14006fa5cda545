{#- Every version of each enrolment a load observed, valid from the API's own `updatedAt` (the timestamp
    strategy): a re-run of the same load adds nothing, and a load that comes late still places a change on
    the day it happened. observed_in_load is the dlt load that first brought the version. -#}
{% snapshot enrolments_history %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}
select {{ lms.columns_without_dlt(source('lms', 'enrolments')) }},
       'updated_at' as validity_clock,
       _dlt_load_id as observed_in_load
from {{ source('lms', 'enrolments') }}
{% endsnapshot %}
