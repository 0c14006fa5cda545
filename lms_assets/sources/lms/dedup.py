"""Letting dlt's merge skip its deduplication when a load is known to hold each id once.

dlt's delete-insert merge first numbers the staging rows per primary key (`ROW_NUMBER() OVER
(PARTITION BY id)` over every column) to keep one of each: at 2M activities that was 6 of a 15 s
load (peak 280 against 262 MiB; bench/, issue #12). An activity window read in one pass holds each id
once; only a listing read again because it moved (listing.py) yields ids twice. So the ids of a
load are tracked as 64-bit hashes (8 bytes a row), and when none repeats the last item tells dlt the
staging data is deduplicated (`write_disposition={"deduplicated": True}`, dlt's documented merge
option). A hash collision only keeps the deduplication: never a lost row.

dlt keeps that table hint in the stored schema, and a later `deduplicated: False` does not clear
it, so each load removes it from the schema it extracts into before its first item.
"""

from __future__ import annotations

from array import array
from typing import Any, Iterable

import dlt
import pyarrow as pa
import pyarrow.compute as pc

MERGE: dict = {"disposition": "merge", "strategy": "delete-insert"}
DEDUPLICATED_HINT = "x-stage-data-deduplicated"  # where dlt stores `deduplicated` in the table schema


class IdLedger:
    """The ids one load has yielded, as hashes."""

    def __init__(self) -> None:
        self._hashes = array("q")

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, records: Iterable[dict]) -> None:
        self._hashes.extend(map(hash, (r["id"] for r in records)))

    def update(self, other: "IdLedger") -> None:
        """Add the ids another part of the same load yielded (a window read in parts)."""
        self._hashes.extend(other._hashes)

    def all_distinct(self) -> bool:
        # Sorted, then neighbours compared: 0.3 s and 32 MiB at 2M ids. `pc.count_distinct` took
        # 450 MiB for the same (its hash table), more than the whole load.
        if len(self._hashes) < 2:
            return True
        hashes = pa.Array.from_buffers(pa.int64(), len(self._hashes), [None, pa.py_buffer(self._hashes)])
        ordered = pc.take(hashes, pc.array_sort_indices(hashes))
        return not pc.any(pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))).as_py()


def forget_deduplicated(table: str) -> None:
    """Drop the hint a previous load left on `table` in the schema being extracted into (see above)."""
    try:
        schema = dlt.current.source_schema()
    except Exception:  # noqa: BLE001 - iterated outside a pipeline: no schema, nothing to clear
        return
    schema.tables.get(table, {}).pop(DEDUPLICATED_HINT, None)


def declare_deduplicated(item: Any) -> Any:
    """`item` carrying the hint that this load's staging data holds each id once."""
    return dlt.mark.with_hints(item, dlt.mark.make_hints(write_disposition={**MERGE, "deduplicated": True}))
