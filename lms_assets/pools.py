"""`python -m lms_assets.pools`: set each tenant's pool (`<prefix>_api`) to the `pool_limit` its defs.yaml names.

A Dagster pool's limit is a setting of the instance (dagster.yaml's `concurrency.pools.default_limit`,
or `dagster instance concurrency set`), not of the definitions, so a component cannot set it while
it loads. This applies the tenants' limits through that public command, against the instance of
DAGSTER_HOME; run it once per deployment and after a limit changes. Tenants without a `pool_limit`
keep the instance's default.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import warnings
from pathlib import Path

from dagster import BetaWarning, ComponentTree, PreviewWarning

from lms_assets.components import LmsTenantComponent
from lms_assets.definitions import PROJECT


def pool_limits(project: Path = PROJECT) -> dict[str, int]:
    """{pool: limit} of the project's tenants that name one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        warnings.simplefilter("ignore", PreviewWarning)
        tenants = ComponentTree.for_project(project).get_all_components(of_type=LmsTenantComponent)
    return {t.tenant().pool: int(t.pool_limit) for t in tenants if t.pool_limit is not None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lms_assets.pools", description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=PROJECT, help="the dg project whose tenants to read (default: this one)")
    args = parser.parse_args(argv)
    limits = pool_limits(args.project)
    for pool, limit in sorted(limits.items()):
        if limit < 1:
            print(f"The pool_limit of pool {pool} is {limit}: set it to 1 or more in its tenant's defs.yaml.", file=sys.stderr)
            return 2
    dagster = Path(sys.executable).parent / "dagster"
    for pool, limit in sorted(limits.items()):
        subprocess.run([str(dagster), "instance", "concurrency", "set", pool, str(limit)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"pool {pool}: at most {limit} load(s) at once")
    if not limits:
        print("No tenant names a pool_limit: every pool takes the instance's default_limit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
