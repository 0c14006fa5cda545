"""DuckDB's memory: a load within a limit sized for its rows, a check within 32MB, both again within 128MB when short."""

import dlt
import pyarrow as pa
import pytest

from lms_assets.warehouse import Warehouse
from lms_assets.warehouse.memory import load_memory_limit

SETTING = "SELECT current_setting('memory_limit')"
# DuckDB prints limits in MiB: 32MB, 64MB and 128MB as
MB32, MB64, MB128 = "30.5 MiB", "61.0 MiB", "122.0 MiB"


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Warehouse:
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.delenv("LMS_DUCKDB_MEMORY_LIMIT", raising=False)
    return Warehouse.from_env()


def _wide_ids(rows: int, width: int = 200):
    # string ids 200 characters long: the merge's DELETE joins on them, 100k of them outgrow 32MB
    @dlt.resource(name="wide", primary_key="id", write_disposition="merge")
    def wide():
        yield pa.table({"id": [f"{i:0{width}d}" for i in range(rows)], "n": list(range(rows))})

    return wide()


def test_the_limit_grows_with_the_rows_loaded_and_stops_at_the_default():
    assert load_memory_limit(0) == "32MB"
    assert load_memory_limit(470_000) == "40MB"
    assert load_memory_limit(2_000_000) == "64MB"
    assert load_memory_limit(50_000_000) == "128MB"


def test_a_load_runs_within_its_sized_limit_and_a_query_within_the_default(warehouse, tmp_path, monkeypatch):
    pipeline = warehouse.pipeline("sized", working_dir=tmp_path / "pipelines")
    with warehouse.write_lock():
        pipeline.extract([{"id": 1}], table_name="rows")
        pipeline.normalize()
        warehouse.load(pipeline, 2_000_000)
        with pipeline.sql_client() as client:  # the connections dlt opens with this pipeline's credentials
            assert client.execute_sql(SETTING)[0][0] == MB64
    with warehouse.sql_client() as client:
        assert client.execute_sql(SETTING)[0][0] == MB128
    assert warehouse.read(lambda client: client.execute_sql(SETTING)[0][0]) == MB32

    monkeypatch.setenv("LMS_DUCKDB_MEMORY_LIMIT", "256MB")  # a limit set by hand holds for everything
    fixed = Warehouse.from_env()
    pipeline = fixed.pipeline("fixed", working_dir=tmp_path / "fixed")
    with fixed.write_lock():
        pipeline.extract([{"id": 2}], table_name="rows")
        pipeline.normalize()
        fixed.load(pipeline, 0)
        with pipeline.sql_client() as client:
            assert client.execute_sql(SETTING)[0][0] == "244.1 MiB"
    assert fixed.read(lambda client: client.execute_sql(SETTING)[0][0]) == "244.1 MiB"


def test_a_merge_that_outgrows_its_sized_limit_is_loaded_again_within_the_default(warehouse, tmp_path):
    pipeline = warehouse.pipeline("outgrown", working_dir=tmp_path / "pipelines")
    retried = []
    with warehouse.write_lock():
        for _ in range(2):  # the second load merges 100k rows over the same 100k: its DELETE needs more than 32MB
            pipeline.extract(_wide_ids(100_000))
            pipeline.normalize()
            warehouse.load(pipeline, 0, on_retry=lambda limit, exc: retried.append(limit))
        assert retried == ["32MB"]
        assert not pipeline.list_normalized_load_packages()  # nothing left pending
        with pipeline.sql_client() as client:
            total, distinct = client.execute_sql(f"SELECT COUNT(*), COUNT(DISTINCT id) FROM {client.make_qualified_table_name('wide')}")[0]
    assert (total, distinct) == (100_000, 100_000)


def test_a_read_that_outgrows_32mb_is_read_again_within_the_default(warehouse):
    # a 20 MB string built by one aggregate: DuckDB cannot spill it
    query = "SELECT length(string_agg(repeat('x', 200), '')) FROM range(100000)"
    assert warehouse.read(lambda client: client.execute_sql(query)[0][0]) == 20_000_000
    with pytest.raises(Exception, match="Out of Memory"):
        with warehouse.sql_client("32MB") as client:
            client.execute_sql(query)
