"""Dagster's standard table metadata for a model's table, read from the warehouse after it is built.

Column descriptions come from the dbt project's YAML, the types from the warehouse."""

from __future__ import annotations

from typing import Any

from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableSchema

from lms_assets.warehouse import qualified_table_name


def table_metadata(client, table: str, rows: int, descriptions: dict[str, str] | None = None) -> dict[str, Any]:
    """`dagster/row_count`, `dagster/table_name` (qualified for the destination) and `dagster/column_schema`."""
    columns = client.execute_sql(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position", client.fully_qualified_dataset_name(quote=False), table)
    return {
        "dagster/row_count": MetadataValue.int(int(rows)),
        "dagster/table_name": MetadataValue.text(qualified_table_name(client, table)),
        "dagster/column_schema": MetadataValue.table_schema(TableSchema(columns=[
            TableColumn(name=name, type=str(kind).lower(), description=(descriptions or {}).get(name),
                        constraints=TableColumnConstraints(nullable=nullable == "YES"))
            for name, kind, nullable in columns])),
    }
