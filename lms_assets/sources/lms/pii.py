"""Personal data policy: `keep`, `hash` or `drop` per column of any loaded resource but activities, applied to each
record before dlt sees it, so a raw value reaches no table, working file, event or log.

Config: by kind of personal field, `sources.lms.pii.<kind> = "keep" | "hash" | "drop"` (env
`SOURCES__LMS__PII__EMAIL=hash`), which covers every resource that carries that kind (`PERSONAL`); or
per resource, `sources.lms.pii.<resource>.<field>` (env `SOURCES__LMS__PII__USERS__EMAIL=hash`), which wins
over the kind. Hashing or dropping a kind in one resource while another keeps it without saying so
is refused: a team that hashes "the email" believes the warehouse holds none. The secret
`sources.lms.pii_key` is the key for `hash`. dlt
resolves env vars key by key and cannot list them, so the env is scanned for the prefix here.
A field is named as the API writes it (`firstName`) or as its column (`first_name`), any case.
Nested JSON fields (e.g. `positions`) are hashed or dropped whole; values inside them are not reached.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Any, Optional

import dlt
import orjson

from lms_assets.sources.lms.errors import LmsConfigError

POLICIES = ("keep", "hash", "drop")
RESOURCES = ("users", "content", "audiences", "audience_members", "assignments", "enrolments", "cpd_entries")
# Merge keys must be kept: a hashed or dropped key would merge every row into one.
KEYS = {"audience_members": {"audienceid", "userid"}, "cpd_entries": {"logentryid"}}
MIN_KEY_LENGTH = 16
# The kinds of personal field the API documents, and the resources (and normalized fields) that carry each:
# one setting per kind covers all of them, and the same value hashes alike everywhere, so joins keep working.
PERSONAL = {
    "email": {"users": "email", "audience_members": "email"},
    "firstname": {"users": "firstname"},
    "lastname": {"users": "lastname"},
}
KIND_NAMES = {"email": "email", "firstname": "first_name", "lastname": "last_name"}
KIND = "*"  # the resource part of a kind's rule in `_configured`
VERBS = {"hash": "hashes", "drop": "drops"}


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def _table(found: dict, table: Any, where: str) -> None:
    if not isinstance(table, dict):
        return
    for resource, fields in table.items():
        if isinstance(fields, str):  # a kind: sources.lms.pii.email = "hash"
            found[(KIND, _norm(str(resource)))] = (fields, f"{where}.{resource}")
            continue
        if not isinstance(fields, dict):
            raise LmsConfigError(f"{where}.{resource} is {fields!r}: write it as a table of field = policy, "
                                 f"e.g. {where}.users.email = \"hash\".")
        for name, policy in fields.items():
            found[(str(resource).lower(), _norm(str(name)))] = (str(policy), f"{where}.{resource}.{name}")


def _configured(section: str, given: Optional[dict]) -> dict[tuple[str, str], tuple[str, str]]:
    """{(resource, normalized field): (policy, where it was set)} from dlt's TOML config, the env, then `given`."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    _table(found, dlt.config.get(f"sources.{section}.pii"), f"sources.{section}.pii")
    prefix = f"SOURCES__{section.upper()}__PII__"
    for var, policy in os.environ.items():
        if var.upper().startswith(prefix):
            parts = var[len(prefix):].split("__")
            if len(parts) not in (1, 2):
                raise LmsConfigError(f"{var} names no single field: use {prefix}<KIND>=keep|hash|drop (e.g. {prefix}EMAIL) "
                                     f"or {prefix}<RESOURCE>__<FIELD>=keep|hash|drop.")
            found[(KIND, _norm(parts[0])) if len(parts) == 1 else (parts[0].lower(), _norm(parts[1]))] = (policy, var)
    _table(found, given, "the tenant's pii")  # a tenant's defs.yaml
    return found


def _validate(resource: str, name: str, policy: str, where: str) -> None:
    if resource not in RESOURCES:
        raise LmsConfigError(f"{where} names resource {resource!r}: personal-data policies apply to "
                             f"{' and '.join(RESOURCES)}.")
    if policy not in POLICIES:
        raise LmsConfigError(f"{where} is {policy!r}: set it to keep, hash or drop.")
    if name in KEYS.get(resource, {"id"}) and policy != "keep":
        raise LmsConfigError(f"{where} is {policy!r}: it is part of the merge key of {resource} and must be kept.")


def _refuse_mixed(explicit: dict[tuple[str, str], tuple[str, str]], section: str) -> None:
    """A kind hashed or dropped in one resource and kept in another by default (not by an explicit `keep`)."""
    for kind, carriers in PERSONAL.items():
        set_ = {r: explicit[(r, f)] for r, f in carriers.items() if (r, f) in explicit}
        protected = [(r, p, w) for r, (p, w) in set_.items() if p != "keep"]
        unset = [r for r in carriers if r not in set_]
        if protected and unset:
            resource, policy, where = protected[0]
            raise LmsConfigError(
                f"{where} {VERBS[policy]} the {KIND_NAMES[kind]} of {resource} but {unset[0]} carries the same {KIND_NAMES[kind]} and would keep it raw: set "
                f"sources.{section}.pii.{KIND_NAMES[kind]} = \"{policy}\" (SOURCES__{section.upper()}__PII__{KIND_NAMES[kind].upper()}) "
                "to cover every "
                f"resource, or sources.{section}.pii.{unset[0]}.{carriers[unset[0]]} = \"keep\" to keep it there on purpose.")


@dataclass(frozen=True)
class PiiPolicy:
    """What happens to each configured field; every other field is kept."""

    rules: dict[str, dict[str, str]] = field(default_factory=dict)  # resource -> normalized field -> hash|drop
    key: Optional[bytes] = field(default=None, repr=False)

    @classmethod
    def from_config(cls, require_key: bool = True, section: str = "lms", given: Optional[dict] = None) -> "PiiPolicy":
        """The policy of config section `sources.<section>`; `given` (a tenant's own) wins field by field."""
        configured = {k: (str(p).strip().lower(), where) for k, (p, where) in _configured(section, given).items()}
        explicit = {k: v for k, v in configured.items() if k[0] != KIND}
        for (resource, name), (policy, where) in configured.items():
            if resource == KIND:
                if name not in PERSONAL:
                    raise LmsConfigError(f"{where} names no kind of personal field: use one of "
                                         f"{', '.join(KIND_NAMES.values())}, or <resource>.<field>.")
                for carrier, column in PERSONAL[name].items():
                    explicit.setdefault((carrier, column), (policy, where))
        rules: dict[str, dict[str, str]] = {}
        for (resource, name), (policy, where) in explicit.items():
            _validate(resource, name, policy, where)
            if policy != "keep":
                rules.setdefault(resource, {})[name] = policy
        _refuse_mixed(explicit, section)
        secret = dlt.secrets.get(f"sources.{section}.pii_key")
        key = str(secret).encode() if secret else None
        hashed = [f"{r}.{f}" for r, fs in rules.items() for f, p in fs.items() if p == "hash"]
        if hashed and require_key and (key is None or len(key) < MIN_KEY_LENGTH):
            raise LmsConfigError(
                f"sources.{section}.pii asks to hash {', '.join(sorted(hashed))} but sources.{section}.pii_key is "
                f"{'not set' if key is None else 'shorter than 16 characters'}: set SOURCES__{section.upper()}__PII_KEY (or pii_key "
                "in .dlt/secrets.toml) to a secret of at least 16 characters, or choose drop.")
        return cls(rules, key)

    def policy(self, resource: str, name: str) -> str:
        return self.rules.get(resource, {}).get(_norm(name), "keep")

    def kind_policies(self, kind: str) -> dict[str, str]:
        """{resource: policy} of one kind of personal field, for every resource that carries it."""
        return {resource: self.policy(resource, name) for resource, name in PERSONAL[_norm(kind)].items()}

    def columns(self, resource: str, hints: dict[str, Any]) -> dict[str, Any]:
        """The resource's column hints: a dropped column gone, a hashed one text."""
        out = {}
        for column, hint in hints.items():
            policy = self.policy(resource, column)
            if policy == "drop":
                continue
            out[column] = {**hint, "data_type": "text"} if policy == "hash" else hint
        return out

    def digest(self, value: Any) -> str:
        """HMAC-SHA256 of the value's text (nested values as canonical JSON), hex: equal values, equal digests."""
        text = value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        return hmac.new(self.key or b"", text.encode(), hashlib.sha256).hexdigest()

    def __call__(self, resource: str, record: dict) -> dict:
        rules = self.rules.get(resource)
        if not rules:
            return record
        for name in list(record):
            policy = rules.get(_norm(name))
            if policy == "drop":
                del record[name]
            elif policy == "hash" and record[name] is not None:
                record[name] = self.digest(record[name])
        return record
