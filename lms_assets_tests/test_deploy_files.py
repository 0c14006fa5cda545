"""The image recipe and the Helm values say what the rehearsal proves: same command, same env names (issue #15)."""

from __future__ import annotations

import json
import re

import yaml

from lms_assets_tests.cli import ROOT
from lms_assets_tests.test_deployment import GRPC_MODULE

DEPLOY = ROOT / "deploy"


def _dockerfile_cmd() -> list[str]:
    cmd = re.search(r"^CMD (\[.*\])$", (DEPLOY / "Dockerfile").read_text(), flags=re.M)
    assert cmd, "deploy/Dockerfile has no exec-form CMD"
    return json.loads(cmd.group(1))


def test_the_image_serves_the_code_location_the_rehearsal_serves():
    text = (DEPLOY / "Dockerfile").read_text()
    cmd = _dockerfile_cmd()
    assert cmd[:3] == ["dagster", "api", "grpc"] and cmd[3:5] == GRPC_MODULE
    assert "-p" in cmd and cmd[cmd.index("-p") + 1] == "3030"
    assert "pip install --no-cache-dir -r requirements.lock" in text  # the pinned versions CI tests
    assert re.search(r"^USER (?!root)\S+", text, flags=re.M)  # not root


def test_the_helm_values_name_the_image_command_secrets_launcher_and_storage():
    values = yaml.safe_load((DEPLOY / "helm-values.yaml").read_text())
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == GRPC_MODULE
    assert str(deployment["port"]) == _dockerfile_cmd()[-1]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    secret = yaml.safe_load((DEPLOY / "lms-secrets.example.yaml").read_text())
    assert {"name": secret["metadata"]["name"]} in deployment["envSecrets"]
    assert {"name": secret["metadata"]["name"]} in values["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]
    assert values["postgresql"]["postgresqlHost"] and values["postgresql"]["postgresqlDatabase"]
    prod = yaml.safe_load((DEPLOY / "dagster.prod.yaml").read_text())
    assert values["concurrency"]["pools"]["defaultLimit"] == prod["concurrency"]["pools"]["default_limit"]
    assert values["concurrency"]["runs"]["maxConcurrentRuns"] == prod["concurrency"]["runs"]["max_concurrent_runs"]
    assert values["dagsterDaemon"]["runRetries"]["maxRetries"] == prod["run_retries"]["max_retries"]

    # every env var the values and the Secret set is one the code or the instance reads
    names = {e["name"] for e in deployment["env"]} | set(secret["stringData"])
    readme = (ROOT / "README.md").read_text() + (ROOT / "docs" / "reference.md").read_text()
    prod_text = (DEPLOY / "dagster.prod.yaml").read_text()
    for name in names:
        assert f"`{name}`" in readme or f"env: {name}" in prod_text, f"{name} is neither documented nor read"


def test_the_shipped_instance_takes_every_setting_from_the_environment():
    storage = yaml.safe_load((DEPLOY / "dagster.prod.yaml").read_text())["storage"]["postgres"]["postgres_db"]
    assert {k: v["env"] for k, v in storage.items() if isinstance(v, dict)} == {
        "hostname": "DAGSTER_PG_HOST", "port": "DAGSTER_PG_PORT", "db_name": "DAGSTER_PG_DB",
        "username": "DAGSTER_PG_USER", "password": "DAGSTER_PG_PASSWORD"}
    assert storage["scheme"] == "postgresql+psycopg2"
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["grpc_server"]["port"] == int(_dockerfile_cmd()[-1])
