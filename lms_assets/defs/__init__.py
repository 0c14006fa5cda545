"""The Dagster definitions: ingestion (dlt assets and their checks), summaries, automation.

Everything Dagster lives here; the dlt source (`lms_assets.sources.lms`), the sandbox API and the
warehouse are plain Python beside it. `lms_assets.definitions` assembles the code location.
"""
