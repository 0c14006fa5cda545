"""Failures as one sentence a person can act on, found behind dlt's exception wrappers."""

from __future__ import annotations

import re

import requests
from dagster import Failure
from dlt.common.configuration.exceptions import ConfigFieldMissingException, ConfigValueCannotBeCoercedException
from dlt.common.schema.exceptions import DataValidationError

from lms_assets.sources.lms.errors import LmsAuthError, LmsConfigError, LmsError, LmsRefusedError, for_section
from lms_assets.sources.lms.responses import quoted_message
from lms_assets.warehouse.memory import exception_chain, is_out_of_memory
from lms_assets.warehouse.outage import WarehouseUnavailableError

_SETTING = re.compile(r"^LMS_[A-Z_]+ is .*: set it to ")


def describe(exc: BaseException, section: str = "lms", dataset: str = "lms") -> tuple[str, bool] | None:
    """(message, permanent) for a failure we can explain; None to let the original stand."""
    for cause in exception_chain(exc):
        if isinstance(cause, WarehouseUnavailableError):
            return str(cause), cause.permanent
        if type(cause) is ValueError and _SETTING.match(str(cause)):  # our settings' own sentences (config.py)
            return str(cause), True
        if isinstance(cause, ConfigFieldMissingException):
            keys = ", ".join(f"sources.{section}.{f}" for f in cause.fields)
            envs = ", ".join(f"SOURCES__{section.upper()}__{f.upper()}" for f in cause.fields)
            return (f"{keys} is not set: set {envs} in the environment, or put it in .dlt/secrets.toml "
                    "(see .dlt/secrets.toml.example).", True)
        if isinstance(cause, ConfigValueCannotBeCoercedException):
            kind = getattr(cause.hint, "__name__", str(cause.hint))
            return (f"sources.{section}.{cause.field_name} is {cause.field_value!r}, not of type {kind}: set "
                    f"SOURCES__{section.upper()}__{cause.field_name.upper()} (or the key in .dlt/config.toml) to one.", True)
        if isinstance(cause, LmsError):
            return str(cause), isinstance(cause, (LmsAuthError, LmsConfigError, LmsRefusedError))
        if isinstance(cause, DataValidationError):
            column, _, variant = str(cause.column_name).partition("__v_")
            got = f" (a value of type {variant} arrived)" if variant else ""
            return (
                f"Column {column!r} of {dataset}.{cause.table_name} changed type in the API's answers{got}; "
                "nothing of this load was written. The LMS API's schema changed: widen the column's "
                "hint in lms_assets/sources/lms/settings.py (or drop the column) and re-run.",
                True,
            )
        if is_out_of_memory(cause):
            return (
                "DuckDB ran out of the memory it is allowed (LMS_DUCKDB_MEMORY_LIMIT; unset, 128MB at most) "
                "while loading; the slice being loaded was not "
                "committed (days committed before it are kept). Raise LMS_DUCKDB_MEMORY_LIMIT (e.g. 512MB), "
                "or commit fewer days at a time with LMS_COMMIT_EVERY_DAYS, and re-run.",
                True,
            )
        if isinstance(cause, requests.ConnectionError):
            request = getattr(cause, "request", None)
            where = f" at {request.url.split('?')[0]}" if request is not None and request.url else ""
            return (
                f"Could not reach the LMS API{where} after all retries: check sources.lms.base_url "
                "(env SOURCES__LMS__BASE_URL) and that the API is up.",
                False,
            )
        if isinstance(cause, requests.HTTPError) and cause.response is not None:
            r = cause.response
            return (
                f"The LMS API answered HTTP {r.status_code}{quoted_message(r)} for GET {r.url.split('?')[0]} after all "
                "retries (sources.lms.max_attempts); the run can be retried once the API recovers.",
                False,
            )
    return None


def as_failure(exc: BaseException, tenant=None) -> BaseException:
    section, dataset = (tenant.config_section, tenant.dataset) if tenant is not None else ("lms", "lms")
    described = describe(exc, section, dataset)
    if described is None:
        return exc
    message, permanent = described
    message = for_section(message, section)
    return Failure(description=message, allow_retries=not permanent)
