"""The metadata queries of the dbt models live in `sql/*.sql`, one file per query; this reads and fills them.

Placeholders are `{name}`; their values are ours (dates, fragments from `lms_assets.warehouse.sql`),
never user text. `{ds}` is the tenant's dataset, qualified and quoted by dlt's client the SQL runs on.
Files with several statements are run in order inside the caller's transaction.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"


@cache
def _text(name: str) -> str:
    lines = (SQL_DIR / f"{name}.sql").read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("--"))


def statements(client, name: str, **values: object) -> list[str]:
    text = _text(name).format(ds=client.fully_qualified_dataset_name(), **values)
    return [s.strip() for s in text.split(";") if s.strip()]


def query(client, name: str, **values: object) -> str:
    (only,) = statements(client, name, **values)
    return only
