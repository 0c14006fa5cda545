"""The one place that touches Dagster internals: the run tags of a partition range.

A single run over a range of partitions (the single-run backfill policy) is requested with two
system tags that Dagster 1.13 reads (`RunRequest.partition_key_range`) but exports no public
constant for. `lms_assets_tests/test_partition_ranges.py` pins them against the installed Dagster.
"""

from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags that make one run cover the partitions `first`..`last` (inclusive)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
