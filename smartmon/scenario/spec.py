"""Scenario specs: YAML files naming what changes, where and when; validated before any work.

A spec:
    name: coal-power-cut-hebei
    kind: carbon | water | control
    period: {from: 2019-01-01, to: 2019-01-03}      # Beijing days the activity data cover
    draws: 200                                      # Monte Carlo draws (CLI --draws overrides)
    seed: 7
    changes:                                        # activity changes, fractions (-0.2 = -20 %)
      - {sector: power, region: "130000", change: -0.2}
      - {sector: [steel, cement], region: ["130100", "130200"], change: -0.1}
    sources: [E11010100000]                         # control: named sources, or a selector
                                                    #   {sector: [power], region: ["110000"]} ...
    days: [2019-01-02]                              # ... cut on named days
    cut: 1.0                                        # control: share of their emissions removed
Regions are GB/T 2260 codes (province, city or county) or "all"; a spec naming a region or a
sector the lake does not know is refused with the names it does know.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from smartmon.errors import InputError

KINDS = ("carbon", "water", "control")


@dataclass(frozen=True)
class Change:
    sectors: tuple[str, ...]
    regions: tuple[str, ...]  # GB/T 2260 codes, or ("all",)
    change: float  # fraction: -0.2 = 20 % less activity


@dataclass(frozen=True)
class Spec:
    name: str
    kind: str
    period: tuple[date, date]
    draws: int
    seed: int
    changes: tuple[Change, ...] = ()
    sources: tuple[str, ...] = ()
    source_filter: Change | None = None  # control: sources chosen by sector and region
    days: tuple[date, ...] = ()
    raw: dict = field(default_factory=dict, compare=False)

    @property
    def canonical(self) -> str:
        return json.dumps(self.raw, sort_keys=True, default=str, ensure_ascii=False)

    @property
    def hash(self) -> str:
        """Identity of what is asked (draws included): the same spec gives the same scenario_id."""
        return hashlib.sha256(self.canonical.encode()).hexdigest()[:16]


def _list(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _date(value: object, where: str) -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(f"{where}: not a date (YYYY-MM-DD): {value!r}") from exc


def parse(raw: dict, origin: str = "spec", draws: int | None = None) -> Spec:
    """A Spec from a mapping; errors name the field."""
    if not isinstance(raw, dict):
        raise InputError(f"{origin}: a scenario spec is a mapping, got {type(raw).__name__}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise InputError(f"{origin}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    period = raw.get("period") or {}
    p = (_date(period.get("from"), f"{origin}: period.from"), _date(period.get("to"), f"{origin}: period.to"))
    if p[1] < p[0]:
        raise InputError(f"{origin}: period ends ({p[1]}) before it starts ({p[0]})")
    changes = []
    for i, c in enumerate(raw.get("changes") or []):
        try:
            value = float(c["change"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{origin}: changes[{i}] needs a numeric change (fraction, e.g. -0.2)") from exc
        if value < -1:
            raise InputError(f"{origin}: changes[{i}] cuts more than 100 % ({value})")
        changes.append(Change(_list(c.get("sector")) or ("all",), _list(c.get("region")) or ("all",), value))
    raw = {**raw, "draws": int(draws if draws is not None else raw.get("draws", 100))}
    named = raw.get("sources")
    selector = None
    if isinstance(named, dict):
        selector = Change(_list(named.get("sector")) or ("all",), _list(named.get("region")) or ("all",), -1.0)
        named = None
    spec = Spec(name=str(raw.get("name") or Path(origin).stem), kind=kind, period=p, draws=raw["draws"], seed=int(raw.get("seed", 0)),
                changes=tuple(changes), sources=_list(named), source_filter=selector,
                days=tuple(_date(d, f"{origin}: days") for d in raw.get("days") or []), raw=raw)
    if spec.draws < 1:
        raise InputError(f"{origin}: draws must be at least 1")
    if kind in ("carbon", "water") and not spec.changes:
        raise InputError(f"{origin}: a {kind} scenario needs at least one change")
    if kind == "control" and not ((spec.sources or spec.source_filter) and spec.days):
        raise InputError(f"{origin}: a control scenario names sources (ids or a sector/region selector) and days")
    if any(not p[0] <= d <= p[1] for d in spec.days):
        raise InputError(f"{origin}: days must lie within the period {p[0]}..{p[1]}")
    return spec


def load(path: Path, draws: int | None = None, period: tuple[date, date] | None = None, days: list[date] | None = None) -> Spec:
    """A spec from YAML; period and days override the file's (to run an example on other data)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("scenario spec not found", file=str(path)) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=str(path)) from exc
    if isinstance(raw, dict) and period:
        raw["period"] = {"from": period[0].isoformat(), "to": period[1].isoformat()}
    if isinstance(raw, dict) and days:
        raw["days"] = [d.isoformat() for d in days]
    return parse(raw, str(path), draws)


def validate(spec: Spec, regions: set[str], sectors: set[str], sources: set[str] | None = None) -> None:
    """Refuse names the lake does not know (regions, sectors, sources), listing what it knows."""
    checks = list(enumerate(spec.changes))
    if spec.source_filter is not None:
        checks.append(("sources", spec.source_filter))
    for i, c in checks:
        bad_r = [r for r in c.regions if r != "all" and r not in regions]
        if bad_r:
            known = ", ".join(sorted(r for r in regions if r.endswith("0000"))[:40])
            raise InputError(f"{spec.name}: {_where(i)} names unknown region(s) {', '.join(bad_r)}; known provinces: {known} "
                             "(cities and counties by their 6-digit codes)")
        bad_s = [s for s in c.sectors if s != "all" and s not in sectors]
        if bad_s:
            raise InputError(f"{spec.name}: {_where(i)} names unknown sector(s) {', '.join(bad_s)}; known: {', '.join(sorted(sectors))}")
    if sources is not None:
        bad = [s for s in spec.sources if s not in sources]
        if bad:
            raise InputError(f"{spec.name}: unknown source(s) {', '.join(bad)} (not in silver.emission_sources)")


def _where(i: int | str) -> str:
    return f"changes[{i}]" if isinstance(i, int) else str(i)


def matches(change: Change, sector: str, province: str, city: str, county: str) -> bool:
    return ("all" in change.sectors or sector in change.sectors) and (
        "all" in change.regions or province in change.regions or city in change.regions or county in change.regions)


def multipliers(spec: Spec, sector: list[str], province: list[str], city: list[str], county: list[str]) -> list[float]:
    """Activity multiplier per entity (1 + the sum of the changes that match it): changes add up,
    so two cuts of the same entity are the sum of each."""
    out = []
    for s, p, c, k in zip(sector, province, city, county, strict=True):
        m = 1.0
        for ch in spec.changes:
            if matches(ch, s, p, c, k):
                m += ch.change
        out.append(max(m, 0.0))
    return out
