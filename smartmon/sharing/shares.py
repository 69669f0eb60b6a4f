"""Share definitions: which tables each Delta Sharing share exposes, read from a YAML file.

Shares are configuration (infra/sharing/shares.yaml), not code, so a provider can expose a table
or add a share for one downstream platform without a release. The protocol's schemas are the
lake's layers (bronze, silver, gold, features) and its tables the lake's tables, so a recipient
reads `share.gold.aqi_daily` exactly where the lake keeps `gold/aqi_daily`. A share may also carry
the consultation reports (`reports: true`): its recipients then read the reports of their area.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from smartmon.config import INFRA_DIR
from smartmon.sharing.errors import InvalidRequest, NotFound
from smartmon.sharing.scoping import RowRule, parse_rule

DEFAULT_SHARES_FILE = INFRA_DIR / "sharing" / "shares.yaml"
LAYERS = ("bronze", "silver", "gold", "features")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ID_NAMESPACE = uuid.UUID("6f1c1e0a-3b9e-4f4e-9d55-5a2b8c1d7e10")


@dataclass(frozen=True)
class SharedTable:
    """One table of a share: `rule` is None when the table's columns decide it."""

    share: str
    schema: str
    name: str
    rule: RowRule | None = None

    @property
    def fqn(self) -> str:
        """layer.table, the lake's own name for it."""
        return f"{self.schema}.{self.name}"

    @property
    def id(self) -> str:
        """Stable UUID: the protocol asks for ids that do not change over the table's life."""
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.share}.{self.fqn}"))


@dataclass(frozen=True)
class Share:
    name: str
    comment: str
    tables: tuple[SharedTable, ...]
    reports: bool = False  # its recipients also read the consultation reports of their area

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, self.name))

    @property
    def schemas(self) -> list[str]:
        """The share's schemas in layer order."""
        used = {t.schema for t in self.tables}
        return [layer for layer in LAYERS if layer in used]


@dataclass(frozen=True)
class ShareConfig:
    path: Path
    shares: tuple[Share, ...]

    def share(self, name: str) -> Share:
        """Share by name (case-insensitive, as the protocol says); NotFound names the known ones."""
        for s in self.shares:
            if s.name == name.lower():
                return s
        raise NotFound(f"share {name!r} does not exist (shares: {', '.join(s.name for s in self.shares)})")

    def table(self, share: str, schema: str, name: str) -> SharedTable:
        s = self.share(share)
        if schema.lower() not in s.schemas:
            raise NotFound(f"schema {schema!r} is not in share {s.name} (schemas: {', '.join(s.schemas)})")
        for t in s.tables:
            if t.schema == schema.lower() and t.name == name.lower():
                return t
        raise NotFound(f"table {schema}.{name} is not in share {s.name}")

    def shares_with(self, fqn: str) -> list[str]:
        """Names of the shares that expose layer.table."""
        return [s.name for s in self.shares if any(t.fqn == fqn for t in s.tables)]


def _table(share: str, entry: Any, where: str) -> SharedTable:
    if isinstance(entry, str):
        fqn, rule = entry, None
    elif isinstance(entry, dict) and "table" in entry:
        fqn, rule = str(entry["table"]), entry.get("rows")
    else:
        raise InvalidRequest(f"{where}: a table is 'layer.table' or {{table: layer.table, rows: RULE}}, got {entry!r}")
    schema, _, name = fqn.strip().lower().partition(".")
    if schema not in LAYERS or not _NAME.match(name):
        raise InvalidRequest(f"{where}: {fqn!r} is not layer.table with a layer among {', '.join(LAYERS)}")
    try:
        parsed = parse_rule(str(rule)) if rule not in (None, "auto") else None
    except InvalidRequest as exc:
        raise InvalidRequest(f"{where}: {fqn}: {exc}") from exc
    return SharedTable(share, schema, name, parsed)


def load_shares(path: Path | str | None = None) -> ShareConfig:
    """Read and check the share file; errors name the file and the entry at fault."""
    p = Path(path) if path else DEFAULT_SHARES_FILE
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise InvalidRequest(f"share file {p} not found (give --shares FILE)") from exc
    except yaml.YAMLError as exc:
        raise InvalidRequest(f"share file {p} is not valid YAML: {exc}") from exc
    entries = raw.get("shares") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InvalidRequest(f"{p}: expected a top-level 'shares:' list with at least one share")
    shares: list[Share] = []
    for i, entry in enumerate(entries):
        where = f"{p}: shares[{i}]"
        name = str((entry or {}).get("name", "")).lower()
        if not _NAME.match(name):
            raise InvalidRequest(f"{where}: name {name!r} must be lower-case letters, digits and _")
        if name in {s.name for s in shares}:
            raise InvalidRequest(f"{where}: share {name} is defined twice")
        tables = tuple(_table(name, t, f"{where} ({name})") for t in entry.get("tables") or [])
        if not tables:
            raise InvalidRequest(f"{where} ({name}): no tables")
        dupes = sorted({t.fqn for t in tables if sum(u.fqn == t.fqn for u in tables) > 1})
        if dupes:
            raise InvalidRequest(f"{where} ({name}): listed twice: {', '.join(dupes)}")
        reports = entry.get("reports", False)
        if not isinstance(reports, bool):
            raise InvalidRequest(f"{where} ({name}): reports is true or false, got {reports!r}")
        shares.append(Share(name, str(entry.get("comment", "")), tables, reports))
    return ShareConfig(p, tuple(shares))
