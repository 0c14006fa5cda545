"""The Dagster UI in a real browser: lineage, partitions, and a materialization launched from it (issue #7).

Starts `dagster dev` against the sandbox, drives Debian's Chromium with Playwright, and launches
a run through the webserver's GraphQL API (what the UI's Materialize button calls).
"""

from __future__ import annotations

import os
import shutil
import time

import pytest

from lms_assets_tests.cli import ROOT, dagster_dev
from lms_assets_tests.graphql import graphql, launch_run
from lms_assets_tests.helpers import query

pytestmark = pytest.mark.slow
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LMS_ASSETS = sorted(["lms/activities", "lms/assignment_compliance", "lms/assignment_compliance_by_assignment",
                     "lms/assignment_compliance_by_audience", "lms/assignment_compliance_daily", "lms/assignments",
                     "lms/audience_members", "lms/audiences", "lms/content", "lms/content_engagement", "lms/cpd_entries",
                     "lms/enrolments", "lms/user_activity_daily", "lms/user_activity_summary", "lms/users",
                     *(f"lms/{t}_history" for t in ("enrolments", "assignments", "audience_members", "users"))])


def _browser_or_skip():
    reason = None
    if CHROMIUM is None:
        reason = "no Chromium: apt-get install chromium"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (it is in requirements.lock)"
    if reason:
        if os.environ.get("LMS_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (LMS_REQUIRE_BROWSER=1: CI must run the browser test)")
        pytest.skip(reason)


@pytest.fixture
def dagster_ui(lms_env, sandbox, tmp_path, dagster_home):
    _browser_or_skip()
    lms_env(sandbox)
    with dagster_dev(dagster_home, tmp_path / "dagster-dev.log") as url:
        yield url


def _open_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"])


def test_the_ui_shows_the_assets_their_lineage_and_partitions_and_runs_a_materialization(dagster_ui, sandbox):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    nodes = graphql(dagster_ui, """{ assetNodes { assetKey { path } dependencyKeys { path }
        isPartitioned partitionKeys } }""")["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert sorted(by_key) == LMS_ASSETS
    deps = {k: sorted("/".join(d["path"]) for d in n["dependencyKeys"]) for k, n in by_key.items()}
    assert deps["lms/user_activity_daily"] == ["lms/activities"]
    assert deps["lms/user_activity_summary"] == ["lms/activities", "lms/users"]
    assert deps["lms/assignment_compliance"] == ["lms/assignments", "lms/audiences", "lms/content", "lms/enrolments",
                                                 "lms/users"]
    assert by_key["lms/cpd_entries"]["isPartitioned"] and not by_key["lms/enrolments"]["isPartitioned"]
    assert by_key["lms/activities"]["isPartitioned"] and by_key["lms/activities"]["partitionKeys"][0] == "2024-01-01"

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = _open_browser(p)
        # tall enough for the twelve assets at the zoom the graph opens with (nodes off screen are not drawn)
        page = browser.new_page(viewport={"width": 1600, "height": 2400})
        page.goto(f"{dagster_ui}/asset-groups", wait_until="networkidle", timeout=120_000)
        try:  # Dagster's first-visit newsletter dialog, which may open a moment after the page
            page.get_by_role("button", name="Skip").click(timeout=15_000)
        except PlaywrightTimeout:
            pass
        for group in ("lms_ingestion", "lms_summaries"):  # groups start collapsed: open them as a person would
            page.get_by_text(group, exact=True).last.dblclick()
            page.wait_for_timeout(500)
        for name in ("activities", "content", "users", "user_activity_daily", "user_activity_summary", "audiences",
                     "audience_members", "assignments", "enrolments", "cpd_entries", "assignment_compliance"):
            page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # let the graph finish its layout animation
        page.screenshot(path=str(ARTIFACTS / "asset-graph.png"))

        page.goto(f"{dagster_ui}/assets/lms/activities?view=partitions", wait_until="networkidle", timeout=120_000)
        page.get_by_text("2024-01-01").first.wait_for(timeout=60_000)  # the first daily partition
        page.screenshot(path=str(ARTIFACTS / "activities-partitions.png"))

        # the catalog's columns carry the descriptions written once in the dbt project's YAML (issue #34),
        # for a dbt model and for a dlt table alike
        for asset, description in (("user_activity_summary", "Distinct UTC days with activity."),
                                   ("users", "The user's role in the LMS (learner, manager, admin, ...).")):
            page.goto(f"{dagster_ui}/assets/lms/{asset}", wait_until="networkidle", timeout=120_000)
            page.get_by_text(description, exact=True).first.wait_for(timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / f"{asset}-columns.png"))
        browser.close()

    run_id = launch_run(dagster_ui, "__ASSET_JOB", {"dagster/partition": "2024-01-02"}, [["lms", "activities"]])
    deadline = time.monotonic() + 300
    while True:
        status = graphql(dagster_ui, "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
                          {"id": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        assert time.monotonic() < deadline, f"run {run_id} still {status} after 300 s"
        time.sleep(2)
    assert status == "SUCCESS"


def _wait_for_run(url: str, run_id: str) -> str:
    deadline = time.monotonic() + 300
    while True:
        status = graphql(url, "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
                         {"id": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        assert time.monotonic() < deadline, f"run {run_id} still {status} after 300 s"
        time.sleep(2)


def test_make_dev_lms_opens_the_ui_on_ones_own_lms_with_oauth(lms_env, make_sandbox, tmp_path, dagster_home, monkeypatch):
    """`make dev-lms` (issue #37): no sandbox of its own, no injected password; the LMS and its OAuth client from the environment."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    _browser_or_skip()
    sb = make_sandbox(profile="realistic")
    sb.options.client_secret = "own-lms-Cl1ent-s3cret"
    db = lms_env(sb)
    for name in ("SOURCES__LMS__USERNAME", "SOURCES__LMS__PASSWORD"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("SOURCES__LMS__AUTH", "oauth2")
    monkeypatch.setenv("SOURCES__LMS__CLIENT_ID", "sandbox-client")
    monkeypatch.setenv("SOURCES__LMS__CLIENT_SECRET", "own-lms-Cl1ent-s3cret")
    monkeypatch.setenv("SOURCES__LMS__TOKEN_URL", f"{sb.base_url}/oauth2/token/{sb.options.tenant_id}")
    log = tmp_path / "make-dev-lms.log"
    with dagster_dev(dagster_home, log, make_target="dev-lms") as url:
        assert "PROBLEM" not in log.read_text()  # check_connection ran first and found nothing to fix
        with sync_playwright() as p:
            browser = _open_browser(p)
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.goto(f"{url}/assets/lms/users", wait_until="networkidle", timeout=120_000)
            try:  # Dagster's first-visit newsletter dialog
                page.get_by_role("button", name="Skip").click(timeout=15_000)
            except PlaywrightTimeout:
                pass
            page.get_by_text("users", exact=True).first.wait_for(timeout=60_000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dev-lms-users.png"))
            browser.close()
        run_id = launch_run(url, "__ASSET_JOB", {}, [["lms", "users"]])
        assert _wait_for_run(url, run_id) == "SUCCESS"
    assert query(db, "SELECT COUNT(*) FROM lms.users")[0][0] == sb.data.users
    served = sb.stats.snapshot()
    assert served["tokens_issued"] >= 1 and served["by_status"].get("401", 0) == 0
