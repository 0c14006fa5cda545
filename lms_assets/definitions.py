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

from dagster import BetaWarning, ComponentTree, Definitions, PreviewWarning, in_process_executor

from lms_assets.components import LmsTenantComponent
from lms_assets.tenant.models.project import dbt_resource
from lms_assets.tenant.resources import WarehouseResource

PROJECT = Path(__file__).resolve().parent.parent


def check_tenants(tenants: list[LmsTenantComponent], where: str = "lms_assets/defs") -> None:
    """Two tenants may share nothing Dagster or the warehouse keys by name."""
    for attribute, what in (("prefix", "a key prefix"), ("dataset", "a dataset")):
        seen: dict[str, int] = {}
        for tenant in tenants:
            value = getattr(tenant, attribute)
            if value:  # a missing one is the component's to report
                seen[value] = seen.get(value, 0) + 1
        shared = sorted(v for v, n in seen.items() if n > 1)
        if shared:
            raise ValueError(f"{sum(seen[v] for v in shared)} tenants under {where}/ share {what} ({', '.join(shared)}): give each "
                             f"tenant's defs.yaml its own {attribute}, or its assets, state and tables would collide.")
    datasets = {t.dataset for t in tenants if t.dataset}
    for dataset in sorted(datasets):
        if f"{dataset}_staging" in datasets:  # dlt stages a dataset's merges and re-syncs in `<dataset>_staging`
            raise ValueError(f"A tenant under {where}/ has dataset {dataset}_staging, where dlt stages the loads of the "
                             f"tenant with dataset {dataset}: give it another dataset.")


def build_defs(warehouse: Optional[WarehouseResource] = None, project: Path = PROJECT) -> Definitions:
    with warnings.catch_warnings():
        # the component tree marks each YAML's code reference with beta metadata classes, and loads defs/'s
        # __init__.py with a preview loader: notices about Dagster's internals, not ours to act on
        warnings.simplefilter("ignore", BetaWarning)
        warnings.simplefilter("ignore", PreviewWarning)
        tree = ComponentTree.for_project(project)
        check_tenants(tree.get_all_components(of_type=LmsTenantComponent), tree.defs_module_name.replace(".", "/"))
        tenants = tree.build_defs()
    return Definitions.merge(tenants, Definitions(
        resources={"warehouse": warehouse or WarehouseResource(), "dbt": dbt_resource()},
        # One process per run: a run here is one load plus a few SQL checks, and a subprocess per step
        # costs ~3 s each on two cores (measured in bench/). Parallelism is across runs (the pools).
        executor=in_process_executor,
    ))


defs = build_defs()
