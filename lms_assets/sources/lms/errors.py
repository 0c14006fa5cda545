"""The source's failures, each one sentence naming what to fix, and the keys they name per tenant section."""

from __future__ import annotations

CREDENTIALS_HINT = (
    "check sources.lms.username and sources.lms.password "
    "(env SOURCES__LMS__USERNAME / SOURCES__LMS__PASSWORD, or .dlt/secrets.toml)"
)


class LmsError(Exception):
    """A failure the operator can act on; the message says what is wrong and what to do."""


class LmsConfigError(LmsError, ValueError):
    pass


class LmsAuthError(LmsError):
    pass


class LmsResponseError(LmsError):
    pass


class LmsRefusedError(LmsError):
    """The API refused a request (a 4xx other than 401/403/429): retrying cannot help."""


def for_section(message: str, section: str) -> str:
    """`message` as a tenant of config section `section` must read it.

    The source's sentences name the first tenant's keys (`sources.lms.per_page`, `SOURCES__LMS__PER_PAGE`):
    the keys are the same under every section, so one rewrite at the edge (a run's failure, the
    connection check's output) names the tenant's own instead of threading a section through each.
    """
    if section == "lms":
        return message
    return message.replace("sources.lms.", f"sources.{section}.").replace("SOURCES__LMS__", f"SOURCES__{section.upper()}__")
