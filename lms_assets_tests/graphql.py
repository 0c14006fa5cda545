"""Talking to a running webserver as the UI does: its GraphQL API."""

from __future__ import annotations

import requests

LAUNCH_RUN = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
    __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
    __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    r = requests.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60)
    assert r.ok, f"GraphQL answered HTTP {r.status_code}: {r.text[:3000]}"
    body = r.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def launch_run(url: str, job: str, tags: dict[str, str] | None = None, assets: list[list[str]] | None = None) -> str:
    selector = {"repositoryLocationName": "lms_assets", "repositoryName": "__repository__", "jobName": job}
    if assets:
        selector["assetSelection"] = [{"path": a} for a in assets]
    launched = graphql(url, LAUNCH_RUN, {"params": {
        "selector": selector,
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
    }})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def run_status(url: str, run_id: str) -> str:
    return graphql(url, "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id})["runOrError"]["status"]


def terminate_run(url: str, run_id: str) -> None:
    """The UI's "Terminate" button: cancel the run (its process is interrupted, not killed)."""
    answer = graphql(url, "mutation($id: String!) { terminateRun(runId: $id) { __typename "
                          "... on PythonError { message } ... on TerminateRunFailure { message } } }", {"id": run_id})
    assert answer["terminateRun"]["__typename"] == "TerminateRunSuccess", answer
