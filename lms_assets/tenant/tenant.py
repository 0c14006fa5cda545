"""One LMS tenant: what makes its definitions, state and data its own.

Every name a tenant puts into the code location derives from its `prefix` (asset keys `<prefix>/...`,
groups, jobs, schedules, sensors, ops, dlt pipelines, the pool), so two tenants cannot collide and
the first, prefix `lms`, keeps the names it always had. Its rows go to its own `dataset` (warehouse
schema) and its API settings and secrets are read from its own dlt config section
(`sources.<config_section>.*`, env `SOURCES__<CONFIG_SECTION>__*`): nothing falls back to another
tenant's. Values given here (from the tenant's `defs.yaml`) win over that section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import dlt
from dagster import AssetKey

from lms_assets.sources.lms import lms_source
from lms_assets.sources.lms.errors import for_section
from lms_assets.sources.lms.pii import PiiPolicy
from lms_assets.sources.lms.timestamps import parse_start_date
from lms_assets.tenant.config import ensure_project_config

ensure_project_config()  # dlt must find the project's .dlt/ before a tenant reads its section

DEFAULT_PREFIX = "lms"
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Crons:
    """Cron expressions (UTC) of the tenant's schedules; None = the `LMS_*_CRON` env var, then the default."""

    dimensions: Optional[str] = None
    activities: Optional[str] = None
    assignments: Optional[str] = None
    cpd: Optional[str] = None


@dataclass(frozen=True)
class Tenant:
    prefix: str = DEFAULT_PREFIX
    dataset: str = DEFAULT_PREFIX
    config_section: str = DEFAULT_PREFIX
    start_date: Optional[str] = None
    base_url: Optional[str] = None
    region: Optional[str] = None
    auth: Optional[str] = None
    tenant_id: Optional[str] = None
    crons: Crons = field(default_factory=Crons)
    pii: Optional[dict[str, Any]] = None  # {kind: policy} or {resource: {field: policy}}; policy keep | hash | drop
    pool_limit: Optional[int] = None

    def __post_init__(self) -> None:
        for name in ("prefix", "dataset", "config_section"):
            value = getattr(self, name)
            if not isinstance(value, str) or not IDENTIFIER.match(value):
                raise ValueError(f"The tenant's {name} is {value!r}: use lower-case letters, digits and underscores, "
                                 "starting with a letter (at most 40 characters).")

    def key(self, name: str) -> AssetKey:
        return AssetKey([self.prefix, name])

    def name(self, suffix: str) -> str:
        """A location-wide name of this tenant's: a job, schedule, sensor, op, group or dlt pipeline."""
        return f"{self.prefix}_{suffix}"

    @property
    def pool(self) -> str:
        return self.name("api")

    @property
    def ingestion_group(self) -> str:
        return self.name("ingestion")

    @property
    def summaries_group(self) -> str:
        return self.name("summaries")

    @property
    def env_section(self) -> str:
        return self.config_section.upper()

    def config_key(self, key: str) -> str:
        return f"sources.{self.config_section}.{key}"

    def first_day(self) -> str:
        """The first partition: `start_date` given here, else `sources.<section>.start_date`."""
        value = self.start_date or dlt.config.get(self.config_key("start_date"))
        if value is None:
            raise ValueError(
                f"{self.config_key('start_date')} is not set: add it to .dlt/config.toml, set "
                f"SOURCES__{self.env_section}__START_DATE, or give the tenant a start_date "
                "(YYYY-MM-DD, the first day of activity history).")
        try:
            return parse_start_date(value).date().isoformat()
        except ValueError as exc:
            if self.start_date:  # given in the tenant's defs.yaml, not read from its section
                raise ValueError(str(exc).replace("sources.lms.start_date", "its start_date").replace(
                    "env SOURCES__LMS__START_DATE", "in its defs.yaml")) from None
            raise ValueError(for_section(str(exc), self.config_section)) from None

    def source_factory(self):
        # name = section: dlt would otherwise also look values up under the source's name
        # (`sources.lms.*`), and a second tenant would quietly read the first one's URL.
        if self.config_section == DEFAULT_PREFIX:
            return lms_source
        return lms_source.clone(name=self.config_section, section=self.config_section)

    def source_overrides(self) -> dict[str, Any]:
        """The source arguments this tenant's YAML fixes (the rest come from its dlt config section)."""
        given = {"base_url": self.base_url, "region": self.region, "auth": self.auth, "tenant_id": self.tenant_id,
                 "start_date": self.start_date}
        return {k: v for k, v in given.items() if v is not None}

    def pii_policy(self, require_key: bool = True) -> PiiPolicy:
        return PiiPolicy.from_config(require_key=require_key, section=self.config_section, given=self.pii)

    def source(self, **kwargs: Any):
        """This tenant's dlt source, configured from its section plus what its YAML fixes."""
        return self.source_factory()(**{**self.source_overrides(), "pii": self.pii_policy(), **kwargs})

