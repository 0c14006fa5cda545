"""A tenant whose settings are wrong is left out, and says so, instead of taking every tenant down (issue #37).

A start date in the future in one tenant's section made the whole code location fail to load, so
every other tenant's schedules, sensors and runs stopped too. Here that tenant's definitions are
replaced by one asset, `<prefix>/tenant_settings`, whose description is the sentence (the UI shows
it in the tenant's group) and whose materialization fails with it; a warning says it at load.
`make check-defs` sets LMS_STRICT_TENANTS=1, which makes the sentence fail the load instead.
"""

from __future__ import annotations

import os
import warnings

import dagster as dg

STRICT_ENV = "LMS_STRICT_TENANTS"


def strict_tenants() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes")


def broken_tenant_defs(prefix: str, sentence: str) -> dg.Definitions:
    message = f"Tenant {prefix} is left out of the code location, the other tenants load: {sentence}"
    warnings.warn(message, stacklevel=2)

    @dg.asset(key=[prefix, "tenant_settings"], group_name=f"{prefix}_ingestion", description=message,
              metadata={"problem": dg.MetadataValue.text(sentence)})
    def tenant_settings() -> None:
        raise dg.Failure(description=sentence, allow_retries=False)

    return dg.Definitions(assets=[tenant_settings])
