"""The summaries' SQL lives in `sql/*.sql`, one file per query; this reads and fills them.

Placeholders are `{name}`; their values are ours (dates, fragments from `lms_assets.warehouse.sql`),
never user text. Files with several statements are run in order inside the caller's transaction.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"


@cache
def _text(name: str) -> str:
    lines = (SQL_DIR / f"{name}.sql").read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("--"))


def statements(name: str, **values: object) -> list[str]:
    return [s.strip() for s in _text(name).format(**values).split(";") if s.strip()]


def query(name: str, **values: object) -> str:
    (only,) = statements(name, **values)
    return only
