"""Every knob a user can turn is documented in README: config keys, env vars, sandbox options (issue #11)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from lms_assets.sandbox.__main__ import _parser
from lms_assets.sources.lms import lms_source

ROOT = Path(__file__).parent.parent
# The README is the way in (at most 150 lines); the reference it points to lives in docs/ (issue #37).
README = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
REFERENCE = (ROOT / "docs" / "reference.md").read_text()
# arguments of the source that the assets pass in code, not configuration
NOT_CONFIG = {"window_start", "window_end", "request_stats", "progress", "progress_every_s", "unlisted", "read_ahead"}


def _source_keys() -> list[str]:
    params = inspect.signature(inspect.unwrap(lms_source)).parameters
    return sorted(p for p in params if p not in NOT_CONFIG)


def _env_vars_read() -> list[str]:
    found = set()
    for path in (ROOT / "lms_assets").rglob("*.py"):
        found.update(re.findall(r"\b(LMS_[A-Z_]+)\b", path.read_text()))
    return sorted(found)


@pytest.mark.parametrize("key", _source_keys())
def test_every_source_key_and_its_env_var_is_documented(key):
    assert f"sources.lms.{key}" in README
    assert f"SOURCES__LMS__{key.upper()}" in README


@pytest.mark.parametrize("name", _env_vars_read())
def test_every_lms_env_var_the_code_reads_is_documented(name):
    assert f"`{name}`" in README


@pytest.mark.parametrize("option", sorted(o for a in _parser()._actions for o in a.option_strings if o.startswith("--") and o != "--help"))
def test_every_sandbox_option_is_documented(option):
    assert f"`{option}" in README


def test_the_layout_table_matches_the_tree():
    section = REFERENCE.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = [p for cell in re.findall(r"^\| (.+?) \|", section, flags=re.M) for p in re.findall(r"`([^`]+)`", cell)]
    for path in rows:
        assert (ROOT / path).exists(), f"README's layout names {path}, which does not exist"
    top = {p.name for p in (ROOT / "lms_assets").iterdir() if not p.name.startswith(("_", ".")) and p.name != "__pycache__"}
    named = {r.split("/")[1] for r in rows if r.startswith("lms_assets/") and r.count("/") >= 1}
    assert top <= named, f"not in README's layout: {sorted(top - named)}"


def test_every_tenant_attribute_is_documented():
    from lms_assets.components import LmsTenantComponent

    section = REFERENCE.split("### Adding a tenant", 1)[1].split("\n## ", 1)[0]
    for name in LmsTenantComponent.model_fields:
        assert f"| `{name}` |" in section, f"README's tenant table lacks {name}"


def test_the_readme_is_the_way_in_at_most_150_lines_and_its_links_resolve():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    for heading in ("## The two commands", "## A tour of the UI", "## Connect your LMS", "## Who is overdue",
                    "## Adding a tenant", "## Deploying"):
        assert heading in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), f"README links to {target}, which does not exist"
    for path in sorted((ROOT / "docs").glob("*.md")):
        for target in re.findall(r"\]\(([^)#]+)\)", path.read_text()):
            if not target.startswith("http"):
                assert (path.parent / target).exists(), f"{path.name} links to {target}, which does not exist"
