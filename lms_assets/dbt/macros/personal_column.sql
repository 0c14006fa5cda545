{# A personal column of a source table, or a typed NULL when the personal-data policy dropped it (the column
   is then absent from the loaded table): the models keep their columns whatever the policy. #}
{% macro personal_column(relation, column, alias=none) -%}
  {%- set present = [] -%}
  {%- if execute -%}
    {%- for c in adapter.get_columns_in_relation(relation) -%}
      {%- if c.name | lower == column | lower -%}{%- do present.append(c) -%}{%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if present -%}{{ alias ~ '.' if alias else '' }}{{ adapter.quote(column) }}
  {%- else -%}cast(null as {{ dbt.type_string() }}){%- endif -%}
{%- endmacro %}
