"""lms-assets: the LMS REST API synced into a warehouse with dlt, as Dagster assets."""
