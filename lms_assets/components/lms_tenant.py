"""`LmsTenantComponent`: one LMS tenant per `defs.yaml`, loaded exactly like every other tenant.

Why a component of our own rather than `dagster_dlt.DltLoadCollectionComponent`: that component runs
`DagsterDltResource.run`, one `pipeline.run` per step, which commits once at the end and holds the
DuckDB lock through the API reads. A tenant's loads here are committed slice by slice of whole days,
log their slices, soft-delete, re-sync, and come with summaries, checks, schedules and a sensor
(`lms_assets.tenant`); the component only says which tenant, and builds all of it for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional, Union

import dagster as dg

from lms_assets.components.broken import broken_tenant_defs, strict_tenants
from lms_assets.components.scaffolding import add_section, datasets_beside, free_dataset
from lms_assets.tenant.tenant import Crons, Tenant
from lms_assets.warehouse import PROJECT_ROOT


class LmsTenantSchedules(dg.Model):
    """Cron expressions (UTC); a schedule left out follows its `LMS_*_CRON` env var, then the default."""

    dimensions: Optional[str] = None
    activities: Optional[str] = None
    assignments: Optional[str] = None
    cpd: Optional[str] = None


class LmsTenantScaffoldParams(dg.Model):
    """`--json-params '{"start_date": "2025-01-01"}'`: a first day fixed in the YAML (else its section's)."""

    start_date: Optional[str] = None


class LmsTenantScaffolder(dg.Scaffolder[LmsTenantScaffoldParams]):
    """`dg scaffold defs lms_assets.components.LmsTenantComponent <name>`: a tenant named for its folder, ready to load.

    Its dataset is one no other tenant's tables or dlt staging use (`lms_staging` is where the
    first tenant's loads are staged), and its section in .dlt/config.toml holds its start date,
    which the YAML leaves to it unless `start_date` is given.
    """

    @classmethod
    def get_scaffold_params(cls) -> type[LmsTenantScaffoldParams]:
        return LmsTenantScaffoldParams

    def scaffold(self, request: dg.ScaffoldRequest[LmsTenantScaffoldParams]) -> None:
        name = request.target_path.name.replace("-", "_").lower()
        attributes = {"prefix": name, "dataset": free_dataset(name, datasets_beside(request.target_path)),
                      "config_section": f"lms_{name}"}
        if request.params is not None and request.params.start_date:
            attributes["start_date"] = request.params.start_date
        dg.scaffold_component(request, attributes)
        add_section(Path(request.project_root or PROJECT_ROOT) / ".dlt" / "config.toml", f"lms_{name}", name)


@dg.scaffold_with(LmsTenantScaffolder)
class LmsTenantComponent(dg.Component, dg.Model, dg.Resolvable):
    """An LMS tenant: its assets `<prefix>/...`, checks, jobs, schedules and sensors, loading into its own dataset.

    API settings and secrets not given here come from the dlt config section `sources.<config_section>`
    (env `SOURCES__<CONFIG_SECTION>__PASSWORD`, ...), which defaults to the prefix.
    """

    # Both required; optional here only so that a missing one is named in one sentence (`build_defs`)
    # rather than in pydantic's report.
    prefix: Optional[str] = None
    dataset: Optional[str] = None
    config_section: Optional[str] = None
    base_url: Optional[str] = None
    region: Optional[Literal["production", "production-mea", "staging", "staging-mea"]] = None
    auth: Optional[Literal["basic", "oauth2"]] = None
    tenant_id: Optional[str] = None
    start_date: Optional[str] = None
    schedules: Optional[LmsTenantSchedules] = None
    pii: Optional[dict[str, Union[Literal["keep", "hash", "drop"], dict[str, Literal["keep", "hash", "drop"]]]]] = None
    pool_limit: Optional[int] = None

    def tenant(self) -> Tenant:
        schedules = self.schedules or LmsTenantSchedules()
        return Tenant(
            prefix=self.prefix, dataset=self.dataset, config_section=self.config_section or self.prefix,
            start_date=self.start_date, base_url=self.base_url, region=self.region, auth=self.auth,
            tenant_id=self.tenant_id, crons=Crons(schedules.dimensions, schedules.activities, schedules.assignments,
                                                  schedules.cpd),
            pii=self.pii, pool_limit=self.pool_limit)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from lms_assets.tenant.definitions import build_tenant_defs

        missing = [name for name in ("prefix", "dataset") if not getattr(self, name)]
        if missing:
            raise ValueError(f"{context.path / 'defs.yaml'} sets no {' and no '.join(missing)}: every tenant needs a prefix "
                             "(of its asset keys and names) and a dataset (its warehouse schema) under `attributes:`.")
        try:
            tenant = self.tenant()
            tenant.first_day()  # the partitions need it: a bad one is this tenant's mistake, found here
            return build_tenant_defs(tenant)
        except ValueError as exc:  # LmsConfigError included: a setting of this tenant's
            sentence = f"{context.path / 'defs.yaml'}: {exc}"
            if strict_tenants():
                raise ValueError(sentence) from None
            return broken_tenant_defs(self.prefix, sentence)
