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
