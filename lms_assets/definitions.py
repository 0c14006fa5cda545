"""The code location: `dagster dev`, `dg dev`, `dg check defs` and `dagster asset materialize -m lms_assets.definitions`
load `defs`.

Every tenant is a `defs.yaml` of `LmsTenantComponent` under `lms_assets/defs/`, built by Dagster's
component tree. Set once here, for all of them: the tenants' prefixes and datasets are distinct (one
sentence otherwise, before Dagster reports colliding keys), the executor and the warehouse resource.
`build_defs` lets a test or a second location pass its own warehouse, or its own defs folder.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import yaml
from dagster import BetaWarning, ComponentTree, Definitions, PreviewWarning, in_process_executor

from lms_assets.tenant.models.project import dbt_resource
from lms_assets.tenant.resources import WarehouseResource

PROJECT = Path(__file__).resolve().parent.parent


def check_tenants(defs_dir: Path) -> None:
    """Two tenants may share nothing Dagster or the warehouse keys by name; a clash names both defs.yaml files."""
    tenants = tenant_attributes(defs_dir)
    for attribute, what in (("prefix", "a key prefix"), ("dataset", "a dataset")):
        holders: dict[str, list[str]] = {}
        for path, attributes in tenants:
            if attributes.get(attribute):  # a missing one is the component's to report
                holders.setdefault(str(attributes[attribute]), []).append(path)
        for value, paths in sorted(holders.items()):
            if len(paths) > 1:
                raise ValueError(f"{' and '.join(paths)} share {what} ({value}): give each tenant's defs.yaml its own "
                                 f"{attribute}, or their assets, state and tables would collide.")
    datasets = {str(a["dataset"]): path for path, a in tenants if a.get("dataset")}
    for dataset, path in sorted(datasets.items()):
        if f"{dataset}_staging" in datasets:  # dlt stages a dataset's merges and re-syncs in `<dataset>_staging`
            raise ValueError(f"{datasets[dataset + '_staging']} has dataset {dataset}_staging, where dlt stages the loads "
                             f"of the tenant of {path} (dataset {dataset}): give it another dataset.")


def tenant_attributes(defs_dir: Path) -> list[tuple[str, dict]]:
    """(path relative to the project, attributes) of every LmsTenantComponent defs.yaml under `defs_dir`."""
    found = []
    for path in sorted(defs_dir.rglob("defs.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if (document or {}).get("type", "").endswith("LmsTenantComponent"):
                where = path.relative_to(defs_dir.parent.parent) if defs_dir.parent.parent in path.parents else path
                found.append((str(where), document.get("attributes") or {}))
    return found


def build_defs(warehouse: Optional[WarehouseResource] = None, project: Path = PROJECT) -> Definitions:
    with warnings.catch_warnings():
        # the component tree marks each YAML's code reference with beta metadata classes, and loads defs/'s
        # __init__.py with a preview loader: notices about Dagster's internals, not ours to act on
        warnings.simplefilter("ignore", BetaWarning)
        warnings.simplefilter("ignore", PreviewWarning)
        tree = ComponentTree.for_project(project)
        check_tenants(tree.defs_module_path)
        tenants = tree.build_defs()
    return Definitions.merge(tenants, Definitions(
        resources={"warehouse": warehouse or WarehouseResource(), "dbt": dbt_resource()},
        # One process per run: a run here is one load plus a few SQL checks, and a subprocess per step
        # costs ~3 s each on two cores (measured in bench/). Parallelism is across runs (the pools).
        executor=in_process_executor,
    ))


defs = build_defs()
