"""A slice extracted and normalized but not loaded, kept for the next attempt of the same window (issue #38).

Each run works in a directory of its own that is removed after it (`Warehouse.run_dir`), so dlt's
advice after a failed load ("pending packages will be re-tried on the next pipeline run") did not
hold: the re-run read the whole window from the API again. When a slice's load fails, its
pipeline directory (the normalized package, its schema and state) is moved here under a name
made of the window and the tables; only a later load of exactly that window and those tables
loads it, and a commit of an overlapping window by other means discards it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

_META = "lms-pending.json"


@dataclass(frozen=True)
class Pending:
    """One kept slice: where its pipeline directory is, and what its extract counted."""

    directory: Path  # the pipelines_dir to build the pipeline on
    row_counts: dict[str, int]
    api: dict[str, Optional[int]]


def _stamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _home(pipelines_dir: Path, pipeline_name: str) -> Path:
    return pipelines_dir / "pending" / pipeline_name


def _slot(pipelines_dir: Path, pipeline_name: str, tables: tuple[str, ...], start: datetime, end: datetime) -> Path:
    return _home(pipelines_dir, pipeline_name) / f"{_stamp(start)}_{_stamp(end)}_{'+'.join(sorted(tables))}"


def keep(pipelines_dir: Path, pipeline_dir: Path, tables: tuple[str, ...], start: datetime, end: datetime,
         row_counts: dict[str, int], api: dict[str, Optional[int]]) -> Path:
    """Move a failed slice's pipeline directory (`<working dir>/<pipeline name>`) where `find` looks."""
    slot = _slot(pipelines_dir, pipeline_dir.name, tables, start, end)
    if slot.exists():
        shutil.rmtree(slot)
    slot.mkdir(parents=True)
    loaded = pipeline_dir / "load" / "loaded"  # the slices before it are committed: only dlt's folder stays
    for package in loaded.iterdir() if loaded.is_dir() else ():
        shutil.rmtree(package, ignore_errors=True)
    shutil.move(str(pipeline_dir), str(slot / pipeline_dir.name))
    (slot / _META).write_text(json.dumps({"row_counts": row_counts, "api": api}))
    return slot


def find(pipelines_dir: Path, pipeline_name: str, tables: tuple[str, ...], start: datetime, end: datetime) -> Optional[Pending]:
    slot = _slot(pipelines_dir, pipeline_name, tables, start, end)
    if not (slot / _META).is_file():
        return None
    meta = json.loads((slot / _META).read_text())
    return Pending(slot, meta["row_counts"], meta["api"])


def discard(pipelines_dir: Path, pipeline_name: str, start: datetime, end: datetime) -> None:
    """Remove kept slices overlapping `[start, end)`: what they hold is now committed (or superseded)."""
    home = _home(pipelines_dir, pipeline_name)
    if not home.is_dir():
        return
    for slot in home.iterdir():
        first, _, rest = slot.name.partition("_")
        last = rest.partition("_")[0]
        try:
            lo, hi = (datetime.strptime(v, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) for v in (first, last))
        except ValueError:
            continue
        if lo < end and start < hi:
            shutil.rmtree(slot, ignore_errors=True)
