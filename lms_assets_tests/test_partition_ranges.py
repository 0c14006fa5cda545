"""Pins the one private Dagster import (`lms_assets/tenant/partition_ranges.py`) against the installed Dagster (issue #11).

If a Dagster upgrade renames the range tags, this fails before a schedule silently loads one partition.
"""

from dagster import PartitionKeyRange, RunRequest

from lms_assets.tenant.partition_ranges import range_tags


def test_the_range_tags_are_what_dagster_reads_as_a_partition_range():
    tags = range_tags("2024-01-01", "2024-01-30")
    assert tags == {"dagster/asset_partition_range_start": "2024-01-01",
                    "dagster/asset_partition_range_end": "2024-01-30"}
    assert RunRequest(tags=tags).partition_key_range == PartitionKeyRange("2024-01-01", "2024-01-30")


def test_no_other_module_imports_dagster_internals():
    from pathlib import Path

    root = Path(__file__).parent.parent
    users = sorted(str(p.relative_to(root)) for folder in ("lms_assets", "lms_assets_tests", "bench")
                   for p in (root / folder).rglob("*.py") if "dagster._" in p.read_text() and p.name != Path(__file__).name)
    assert users == ["lms_assets/tenant/partition_ranges.py"]
