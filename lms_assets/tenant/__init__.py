"""Everything Dagster one LMS tenant owns: ingestion (dlt assets and their checks), summaries, automation.

Each part is built for a `Tenant` (`tenant.py`) by `definitions.build_tenant_defs`; the component in
`lms_assets.components` builds one per `defs.yaml` under `lms_assets/defs/`. The dlt source
(`lms_assets.sources.lms`), the sandbox API and the warehouse are plain Python beside it.
"""
