"""The warehouse: dlt destination, DuckDB lock, SQL fragments and soft deletes; no Dagster here."""

from lms_assets.warehouse.sql import load_ids_sql, qualified_table_name, timestamp_sql, utc_day_sql, window_sql
from lms_assets.warehouse.warehouse import DATASET, PROJECT_ROOT, SUPPORTED, Warehouse, make_pipeline

__all__ = ["DATASET", "PROJECT_ROOT", "SUPPORTED", "Warehouse", "load_ids_sql", "make_pipeline", "qualified_table_name", "timestamp_sql",
           "utc_day_sql", "window_sql"]
