"""The dbt project (`lms_assets/dbt/`) as dagster-dbt sees it, and its manifest prepared ahead of loading.

`make setup`, the Docker image and CI call `prepare()`, which parses the
project once (`dbt parse`); loading the definitions then reads `target/manifest.json` instead of parsing
on every load. A checkout without it (set-up skipped) parses once on first load.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from lms_assets.tenant.models.profile import PROFILE_VARIABLES
from lms_assets.warehouse import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "lms_assets" / "dbt"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
# The dbt of this interpreter's environment, whether or not its bin/ is on PATH (make runs .venv/bin/python).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


def prepare() -> Path:
    """`dbt parse` into target/ (manifest and partial-parse file), as the set-up does; the manifest's path."""
    env = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DBT_TARGET_PATH": str(MANIFEST.parent), "DBT_LOG_PATH": str(MANIFEST.parent)}
    for key in PROFILE_VARIABLES:
        env.pop(key, None)  # the manifest is the same for every warehouse: parse on the defaults
    subprocess.run([DBT_EXECUTABLE, "parse", "--quiet"], cwd=DBT_PROJECT_DIR, env=env, check=True)
    return MANIFEST


@cache
def dbt_project() -> DbtProject:
    if not MANIFEST.exists():
        prepare()
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=Path("target"))


@cache
def manifest() -> dict[str, Any]:
    return json.loads(dbt_project().manifest_path.read_text())


def source_columns() -> dict[str, dict[str, str]]:
    """{loaded table: {column: description}}, written once in models/sources.yml."""
    return {s["name"]: {c: col.get("description", "") for c, col in s["columns"].items()}
            for s in manifest()["sources"].values() if s["source_name"] == "lms"}


class LmsDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, told the version of the dbt it runs instead of asking it.

    dagster-dbt runs `dbt --version` in a subprocess once per resource, which is once per run: 1.3-2.2 s
    of every model run here. DBT_EXECUTABLE is this environment's dbt, so the installed dbt-core says
    the same. The one private name of dagster-dbt this project overrides, pinned by
    test_dbt_models.py::test_the_dbt_version_is_the_installed_dbt_cores.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    return LmsDbtCliResource(project_dir=dbt_project(), dbt_executable=DBT_EXECUTABLE)

