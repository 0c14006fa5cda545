"""What `dg scaffold defs ... LmsTenantComponent <name>` decides for a new tenant: a free dataset, its dlt section."""

from __future__ import annotations

from pathlib import Path

import yaml

DEFAULT_START_DATE = "2024-01-01"


def datasets_beside(target: Path) -> set[str]:
    """The datasets of the tenants already in the defs folder `target` is scaffolded into."""
    found = set()
    for path in target.parent.glob("*/defs.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            dataset = ((document or {}).get("attributes") or {}).get("dataset")
            if dataset:
                found.add(str(dataset))
    return found


def _clashes(candidate: str, taken: set[str]) -> bool:
    # dlt stages a dataset's merges in `<dataset>_staging`: neither may be another tenant's dataset
    return any(candidate in (d, f"{d}_staging") or d == f"{candidate}_staging" for d in taken)


def free_dataset(name: str, taken: set[str]) -> str:
    for candidate in (f"lms_{name}", f"{name}_lms", f"lms_{name}_tenant"):
        if not _clashes(candidate, taken):
            return candidate[:40]
    raise ValueError(f"No free dataset for a tenant named {name}: choose another folder name.")


def add_section(config: Path, section: str, name: str) -> None:
    """Give the tenant its section in .dlt/config.toml (its start date, where its API goes), unless it has one."""
    text = config.read_text() if config.exists() else ""
    if f"[sources.{section}]" in text:
        return
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text.rstrip("\n") + f"""

[sources.{section}]
# Tenant {name} (lms_assets/defs/{name}/defs.yaml). Its secrets go under [sources.{section}] in
# .dlt/secrets.toml (username/password, or client_id/client_secret), or env SOURCES__{section.upper()}__*.
start_date = "{DEFAULT_START_DATE}"
# base_url = "https://<host>/rest"
# auth = "oauth2"
# region = "production"
# tenant_id = "<your tenant id>"
""")
