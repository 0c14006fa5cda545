"""Several LMS tenants in one code location, each a `defs.yaml` of `LmsTenantComponent` (issue #22).

A project of the test's own holds the tenants' YAML (`north`, `south`) beside the shipped component, and
each tenant reads its own sandbox through its own config section (`SOURCES__NORTH__*`, `SOURCES__SOUTH__*`).
The two sandboxes serve the same ids with different data, so a row that crossed tenants shows up in the counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from lms_assets_tests.cli import BIN, ROOT, finish
from lms_assets_tests.conftest import PASSWORD
from lms_assets_tests.helpers import expected_activities, query, utc

NORTH = dict(users=120, contents=40, activities=1_500, days=3, seed=7)
SOUTH = dict(users=80, contents=30, activities=900, days=3, seed=11)
TENANT_YAML = """\
type: lms_assets.components.LmsTenantComponent
attributes:
{attributes}
"""
LOG_WARNINGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def make_project(root: Path, package: str, tenants: dict[str, str]) -> Path:
    """A dg project `package` in `root` whose defs/ holds one defs.yaml per tenant ({folder: attributes YAML})."""
    (root / package / "defs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [project]
        name = "{package}"
        version = "0"
        [tool.dg]
        directory_type = "project"
        [tool.dg.project]
        root_module = "{package}"
        code_location_target_module = "{package}.definitions"
        code_location_name = "{package}"
        registry_modules = ["lms_assets.components"]
        """))
    (root / package / "__init__.py").write_text("")
    (root / package / "defs" / "__init__.py").write_text("")
    (root / package / "definitions.py").write_text(
        "from pathlib import Path\n\nfrom lms_assets.definitions import build_defs\n\ndefs = build_defs(project=Path(__file__).parent)\n")
    for folder, attributes in tenants.items():
        (root / package / "defs" / folder).mkdir()
        (root / package / "defs" / folder / "defs.yaml").write_text(
            TENANT_YAML.format(attributes=textwrap.indent(textwrap.dedent(attributes).strip(), "  ")))
    return root


TWO_TENANTS = {
    "north": "prefix: north\ndataset: lms_north\nstart_date: '2024-01-01'\nschedules:\n  activities: '5 1 * * *'\npool_limit: 1",
    "south": "prefix: south\ndataset: lms_south\nconfig_section: south_lms\nstart_date: '2024-01-01'\npii:\n  email: drop",
}


@pytest.fixture
def two_tenants(tmp_path, monkeypatch, make_sandbox):
    """Two sandboxes, a project naming two tenants, and the env of each tenant's config section."""
    north, south = make_sandbox(**NORTH), make_sandbox(**SOUTH)
    package = f"tenants_{os.getpid()}_{abs(hash(tmp_path)) % 10**8}"
    project = make_project(tmp_path / "project", package, TWO_TENANTS)
    monkeypatch.syspath_prepend(str(project))
    env = {"LMS_DESTINATION": "duckdb", "DESTINATION__DUCKDB__CREDENTIALS": str(tmp_path / "warehouse.duckdb"),
           "LMS_PIPELINES_DIR": str(tmp_path / "dlt")}
    for section, sb in (("NORTH", north), ("SOUTH_LMS", south)):
        env.update({f"SOURCES__{section}__BASE_URL": sb.base_url, f"SOURCES__{section}__USERNAME": "sandbox",
                    f"SOURCES__{section}__PASSWORD": PASSWORD, f"SOURCES__{section}__BACKOFF_FACTOR": "0.01"})
    # the first tenant's section points nowhere: a tenant that fell back to it would fail
    env.update({"SOURCES__LMS__BASE_URL": "http://127.0.0.1:9", "SOURCES__LMS__PASSWORD": "not-this-one"})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {"north": north, "south": south, "package": package, "project": project, "db": tmp_path / "warehouse.duckdb",
            "env": env}


def _defs(package: str):
    module = __import__(f"{package}.definitions", fromlist=["defs"])
    return module.defs


def _expected(sb, days: int = 3) -> dict[str, int]:
    return expected_activities(sb.data, utc(2024, 1, 1), utc(2024, 1, 1 + days))


def test_each_tenant_has_its_own_names_keys_and_settings(two_tenants):
    defs = _defs(two_tenants["package"])
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for prefix in ("north", "south"):
        assert {f"{prefix}/{n}" for n in ("content", "users", "activities", "user_activity_summary",
                                           "assignment_compliance", "cpd_entries")} <= keys
        assert graph.get(AssetKey([prefix, "activities"])).group_name == f"{prefix}_ingestion"
        assert {f"{prefix}_dimensions_job", f"{prefix}_activities_job", f"{prefix}_dimensions_resync"} <= {j.name for j in defs.jobs}
        assert {f"{prefix}_summaries_automation", f"{prefix}_freshness_checks_sensor"} <= {s.name for s in defs.sensors}
    assert not any(k.startswith("lms/") for k in keys)
    schedules = {s.name: s.cron_schedule for s in defs.schedules}
    assert schedules["north_activities_daily"] == "5 1 * * *"  # from its YAML
    assert schedules["south_activities_daily"] == "15 0 * * *"  # the default
    assert [set(graph.get(AssetKey([p, "users"])).pools) for p in ("north", "south")] == [{"north_api"}, {"south_api"}]


def test_two_tenants_load_exactly_into_their_own_datasets(two_tenants, instance):
    """Each tenant's whole graph, in one code location: its own rows, its own summaries, its own load log."""
    defs = _defs(two_tenants["package"])
    job = defs.resolve_implicit_global_asset_job_def()
    for prefix in ("north", "south"):
        for names, tags in ((("content", "users"), {}),
                            (("activities", "user_activity_daily"), {"dagster/asset_partition_range_start": "2024-01-01",
                                                                     "dagster/asset_partition_range_end": "2024-01-03"}),
                            (("user_activity_summary", "content_engagement"), {})):
            result = job.execute_in_process(instance=instance, asset_selection=[AssetKey([prefix, n]) for n in names],
                                            tags=tags, run_config=LOG_WARNINGS)
            assert result.success
    db = two_tenants["db"]
    for prefix, sb in (("north", two_tenants["north"]), ("south", two_tenants["south"])):
        dataset = f"lms_{prefix}"
        assert dict(query(db, f"SELECT id, epoch_ms(date) FROM {dataset}.activities")) == _expected(sb)
        assert query(db, f"SELECT COUNT(*) FROM {dataset}.users")[0][0] == sb.data.users
        users = {sb.data.user_id(i) for i in range(sb.data.users)}
        known = sum(1 for i in range(sb.data.activities) if sb.data.activity(i)["user"] in users)
        assert query(db, f"SELECT SUM(activity_count) FROM {dataset}.user_activity_summary")[0][0] == known
        assert query(db, f"SELECT COUNT(*) FROM {dataset}.user_activity_summary")[0][0] == sb.data.users
        assert query(db, f"SELECT SUM(rows) FROM {dataset}._lms_windows WHERE resource = 'activities'")[0][0] == len(_expected(sb))
    # the south tenant's personal-data policy (drop email) is its own; north keeps emails
    columns = {(s, c) for s, c in query(db, "SELECT table_schema, column_name FROM information_schema.columns "
                                            "WHERE table_name = 'users' AND column_name = 'email' "
                                            "AND table_schema NOT LIKE '%_staging'")}
    assert columns == {("lms_north", "email")}
    assert not query(db, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'lms'")[0][0]


@pytest.mark.slow
def test_two_tenants_runs_launched_together_both_load_exactly(two_tenants, dagster_home):
    """`dagster asset materialize` of each tenant's activity range and users: four runs started at the same moment
    from one code location."""
    env = {**os.environ, **two_tenants["env"], "DAGSTER_HOME": str(dagster_home),
           "PYTHONPATH": os.pathsep.join([str(two_tenants["project"]), str(ROOT)])}
    module = f"{two_tenants['package']}.definitions"
    # create the instance's storage once, as a deployment has it, before runs race to do so
    subprocess.run([str(BIN / "dagster"), "instance", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    runs = {f"{prefix}/{what}": ["--partition-range", "2024-01-01...2024-01-03"] if what == "activities" else []
            for prefix in ("north", "south") for what in ("activities", "users")}
    procs = {selection: subprocess.Popen(
        [str(BIN / "dagster"), "asset", "materialize", "-m", module, "--select", selection, *extra],
        cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for selection, extra in runs.items()}
    for proc in procs.values():
        code, out = finish(proc)
        assert code == 0, out[-3000:]
    db = two_tenants["db"]
    for prefix in ("north", "south"):
        sb = two_tenants[prefix]
        assert dict(query(db, f"SELECT id, epoch_ms(date) FROM lms_{prefix}.activities")) == _expected(sb)
        assert query(db, f"SELECT COUNT(*) FROM lms_{prefix}.users")[0][0] == sb.data.users


def _check_defs(project: Path, package: str, **extra_env: str) -> subprocess.CompletedProcess:
    """`dg check defs` as `make check-defs` runs it: a tenant with a bad setting fails the check (LMS_STRICT_TENANTS)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project), str(ROOT)]), "VIRTUAL_ENV": str(Path(sys.executable).parent.parent),
           "SOURCES__LMS__START_DATE": "2024-01-01", "LMS_STRICT_TENANTS": "1", **extra_env}
    return subprocess.run([str(BIN / "dg"), "check", "defs"], cwd=project, env=env, text=True, capture_output=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("tenants, sentence", [
    ({"north": "prefix: north\nstart_date: '2024-01-01'"},
     "defs.yaml sets no dataset: every tenant needs a prefix (of its asset keys and names) and a dataset"),
    ({"north": "prefix: same\ndataset: one\nstart_date: '2024-01-01'",
      "south": "prefix: same\ndataset: two\nstart_date: '2024-01-01'"},
     "{package}/defs/north/defs.yaml and {package}/defs/south/defs.yaml share a key prefix (same): give each "
     "tenant's defs.yaml its own prefix"),
    ({"north": "prefix: north\ndataset: shared\nstart_date: '2024-01-01'",
      "south": "prefix: south\ndataset: shared\nstart_date: '2024-01-01'"},
     "{package}/defs/north/defs.yaml and {package}/defs/south/defs.yaml share a dataset (shared): give each "
     "tenant's defs.yaml its own dataset"),
    ({"north": "prefix: north\ndataset: lms\nstart_date: '2024-01-01'",
      "south": "prefix: south\ndataset: lms_staging\nstart_date: '2024-01-01'"},
     "{package}/defs/south/defs.yaml has dataset lms_staging, where dlt stages the loads of the tenant of "
     "{package}/defs/north/defs.yaml (dataset lms)"),
], ids=["missing-dataset", "duplicate-prefix", "duplicate-dataset", "staging-dataset"])
def test_dg_check_defs_names_a_bad_tenant_in_one_sentence(tmp_path, tenants, sentence):
    package = f"bad_{tmp_path.name[-12:].replace('-', '_')}".lower()
    project = make_project(tmp_path / "project", package, tenants)
    result = _check_defs(project, package)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert sentence.format(package=package) in output, output[-3000:]


@pytest.mark.slow
def test_dg_check_defs_passes_on_the_shipped_project_and_two_good_tenants(tmp_path):
    package = "good_tenants"
    project = make_project(tmp_path / "project", package, TWO_TENANTS)
    result = _check_defs(project, package)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


@pytest.mark.slow
def test_tenants_scaffolded_under_the_readmes_names_pass_check_defs_unedited(tmp_path):
    """`staging` once got dataset lms_staging, where dlt stages the first tenant's loads, and a start_date in its YAML."""
    package = "scaffolded_tenants"
    project = make_project(tmp_path / "project", package, {"lms": "prefix: lms\ndataset: lms"})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project), str(ROOT)]),
           "VIRTUAL_ENV": str(Path(sys.executable).parent.parent)}
    for name in ("staging", "emea", "acme-corp"):
        done = subprocess.run([str(BIN / "dg"), "scaffold", "defs", "lms_assets.components.LmsTenantComponent", name],
                              cwd=project, env=env, text=True, capture_output=True, timeout=300)
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    datasets = {f: (project / package / "defs" / f / "defs.yaml").read_text() for f in ("staging", "emea", "acme-corp")}
    assert "dataset: staging_lms" in datasets["staging"] and "dataset: lms_emea" in datasets["emea"]
    assert not any("start_date" in text for text in datasets.values())
    config = (project / ".dlt" / "config.toml").read_text()
    assert all(f"[sources.lms_{n}]" in config for n in ("staging", "emea", "acme_corp"))
    result = _check_defs(project, package)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


@pytest.mark.slow
def test_a_tenant_with_a_future_start_date_stops_no_other_tenant(tmp_path, monkeypatch, make_sandbox, instance):
    sb = make_sandbox(**NORTH)
    package = f"isolated_{os.getpid()}_{abs(hash(tmp_path)) % 10**8}"
    project = make_project(tmp_path / "project", package, {
        "north": TWO_TENANTS["north"], "south": "prefix: south\ndataset: lms_south\nconfig_section: south_lms"})
    monkeypatch.syspath_prepend(str(project))
    for name, value in {"LMS_DESTINATION": "duckdb", "DESTINATION__DUCKDB__CREDENTIALS": str(tmp_path / "w.duckdb"),
                        "LMS_PIPELINES_DIR": str(tmp_path / "dlt"), "SOURCES__NORTH__BASE_URL": sb.base_url,
                        "SOURCES__NORTH__USERNAME": "sandbox", "SOURCES__NORTH__PASSWORD": PASSWORD,
                        "SOURCES__SOUTH_LMS__START_DATE": "2999-01-01"}.items():
        monkeypatch.setenv(name, value)
    sentence = ("sources.south_lms.start_date is 2999-01-01, in the future: set it to the first day of activity "
                "history (YYYY-MM-DD, env SOURCES__SOUTH_LMS__START_DATE).")
    with pytest.warns(UserWarning, match="Tenant south is left out of the code location"):
        defs = _defs(package)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"north/users", "north/activities", "north/assignment_compliance"} <= keys
    assert [k for k in keys if k.startswith("south/")] == ["south/tenant_settings"]
    assert "north_activities_daily" in {s.name for s in defs.schedules}
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(instance=instance, asset_selection=[AssetKey(["north", "users"])], run_config=LOG_WARNINGS).success
    broken = job.execute_in_process(instance=instance, asset_selection=[AssetKey(["south", "tenant_settings"])],
                                    run_config=LOG_WARNINGS, raise_on_error=False)
    failure = next(e for e in broken.all_events if e.event_type_value == "STEP_FAILURE")
    assert sentence in str(failure.event_specific_data.error.message)
    assert "sources.lms." not in str(failure.event_specific_data.error.message)
    checked = _check_defs(project, package, SOURCES__SOUTH_LMS__START_DATE="2999-01-01")
    assert checked.returncode != 0 and f"{package}/defs/south/defs.yaml: {sentence}" in checked.stdout + checked.stderr


def test_the_first_tenant_keeps_its_keys_and_names(instance: DagsterInstance):
    from lms_assets.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "lms/activities" in keys and all(k.startswith("lms/") for k in keys)
    assert {"lms_dimensions_job", "lms_activities_daily"} <= {j.name for j in defs.jobs} | {s.name for s in defs.schedules}


@pytest.mark.slow
def test_a_tenants_pool_limit_is_set_on_the_instance(tmp_path, dagster_home):
    project = make_project(tmp_path / "project", "pooled_tenants", TWO_TENANTS)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "PYTHONPATH": os.pathsep.join([str(project), str(ROOT)]),
           "SOURCES__LMS__START_DATE": "2024-01-01"}
    out = subprocess.run([sys.executable, "-m", "lms_assets.pools", "--project", str(project)], cwd=ROOT, env=env,
                         text=True, capture_output=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "pool north_api: at most 1 load(s) at once" in out.stdout
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        assert instance.event_log_storage.get_concurrency_info("north_api").slot_count == 1
        assert "south_api" not in instance.event_log_storage.get_concurrency_keys()  # no pool_limit: the default


def test_a_tenant_never_reads_another_tenants_settings(two_tenants, instance, monkeypatch):
    """Its section without a base_url fails in one sentence naming its own keys; the first tenant's URL is not borrowed."""
    monkeypatch.delenv("SOURCES__NORTH__BASE_URL")
    job = _defs(two_tenants["package"]).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, asset_selection=[AssetKey(["north", "users"])], raise_on_error=False,
                                    run_config=LOG_WARNINGS)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "sources.north.base_url is not set: set SOURCES__NORTH__BASE_URL" in message, message
    assert "127.0.0.1:9" not in message and "not-this-one" not in message
