{# Models build in the target's schema (the tenant's dataset), not `<target>_<custom>`: the tables keep the
   names and schema the loads use. A project that installs this package keeps its own. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ custom_schema_name or target.schema }}
{%- endmacro %}
