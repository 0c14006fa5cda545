"""Settings the Dagster definitions read when they load: no secret, no network.

`sources.lms.start_date` comes from dlt's config (.dlt/config.toml or SOURCES__LMS__START_DATE),
the same key the source reads and validated by the same function, so the partitions and the API
history cannot disagree. The knobs of the automation are `LMS_*` env vars.
"""

from __future__ import annotations

import os

from lms_assets.warehouse import PROJECT_ROOT


def ensure_project_config() -> None:
    """dlt finds .dlt/ from the working directory; a code location started elsewhere (a container,
    `dagster dev -f`) should still see the project's committed defaults."""
    if not (os.path.isdir(".dlt") or "DLT_PROJECT_DIR" in os.environ):
        os.environ["DLT_PROJECT_DIR"] = str(PROJECT_ROOT)


# At import, because the definitions read `sources.lms.start_date` (the first partition) as they load.
ensure_project_config()


def env_number(name: str, default: int | float):
    """`name` from the environment, of `default`'s type; one sentence when it is not a number."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return type(default)(raw)
    except ValueError:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ValueError(f"{name} is {raw!r}: set it to {kind} (default {default}).") from None


def activity_lookback_days() -> int:
    return env_number("LMS_ACTIVITY_LOOKBACK_DAYS", 2)


def compliance_lookback_days() -> int:
    return env_number("LMS_COMPLIANCE_LOOKBACK_DAYS", 3)


def due_soon_days() -> int:
    return env_number("LMS_DUE_SOON_DAYS", 14)


def unknown_user_warn_share() -> float:
    return env_number("LMS_UNKNOWN_USER_WARN_SHARE", 0.05)


def progress_every_s() -> float:
    return env_number("LMS_PROGRESS_EVERY_S", 10.0)


# Days a range run commits at a time (issue #13): measured in bench/ (docs/reference.md "Guarantees").
DEFAULT_COMMIT_EVERY_DAYS = 7


def commit_every_days() -> int:
    days = env_number("LMS_COMMIT_EVERY_DAYS", DEFAULT_COMMIT_EVERY_DAYS)
    if days < 1:
        raise ValueError(f"LMS_COMMIT_EVERY_DAYS is {days}: set it to 1 or more whole UTC days "
                         f"(default {DEFAULT_COMMIT_EVERY_DAYS}), the slice a range run commits at a time.")
    return days


def read_ahead_days() -> int:
    """Days of the next slice read while a slice is committed: a third of a slice (7 days: 2), at least 1.

    Bounded so a run killed at 80% of a 30-day range's pages has committed at least half of it (read_ahead.py).
    """
    return max(1, commit_every_days() // 3)


def freshness_deadline_cron() -> str:
    """When yesterday's activities must be loaded (UTC): the freshness check's deadline."""
    from croniter import croniter

    cron = os.environ.get("LMS_FRESHNESS_DEADLINE_CRON", "0 2 * * *").strip()
    if not croniter.is_valid(cron):
        raise ValueError(f"LMS_FRESHNESS_DEADLINE_CRON is {cron!r}: set it to a cron expression in UTC "
                         "(default '0 2 * * *', 02:00 every day).")
    return cron
