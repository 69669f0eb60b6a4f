"""Row scoping: how the rows of a shared table are placed in an area.

Four rules, chosen per table from its columns (or declared in shares.yaml):

- `admin`: the table carries GB/T 2260 codes (county_code, city_code, province_code); a row's
  place is its finest non-null code.
- `station:<column>`: the table names a station (station_id, receptor_id ...); its place is
  the station's finest code in silver.stations. An unknown station places the row nowhere.
- `entity:<kind>,<id>`: mixed rows such as gold.region_daily (scope, code) or
  gold.scenario_results (entity_kind, entity_id): region kinds use the id as a code, `station`
  rows go through silver.stations, every other kind (nation, hex cells, sections, totals) is
  unplaced.
- `national`: the rows cannot be placed at all, so the table goes to national recipients only.

Unplaced rows are seen by national recipients only: a province must never get a row that may
belong to another province.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from smartmon.sharing.areas import Area, finest_code, visible_mask
from smartmon.sharing.errors import InvalidRequest

log = logging.getLogger(__name__)

ADMIN_COLUMNS = ("county_code", "city_code", "province_code")
REGION_KINDS = ("county", "city", "province", "region")
STATION_KIND = "station"
_ENTITY_PAIRS = (("scope", "code"), ("entity_kind", "entity_id"))
KINDS = ("admin", "station", "entity", "national")


@dataclass(frozen=True)
class RowRule:
    """How rows map to an area; `columns` are the columns the rule reads."""

    kind: str
    columns: tuple[str, ...] = ()

    @property
    def needs_stations(self) -> bool:
        return self.kind in ("station", "entity")

    @property
    def national_only(self) -> bool:
        return self.kind == "national"

    def describe(self) -> str:
        """One line for listings: what places a row."""
        if self.kind == "admin":
            return "by its admin codes (" + " > ".join(self.columns) + ")"
        if self.kind == "station":
            return f"by {self.columns[0]} via silver.stations"
        if self.kind == "entity":
            kind, ident = self.columns
            return f"by ({kind}, {ident}): region codes by prefix, stations via silver.stations, other kinds national only"
        return "NATIONAL ONLY: rows carry no admin code or station to place them by"

    def __str__(self) -> str:
        return self.kind + (":" + ",".join(self.columns) if self.columns else "")


def parse_rule(text: str) -> RowRule:
    """Parse a rule as written in shares.yaml: admin | station:COL | entity:KIND,ID | national."""
    kind, _, rest = text.strip().partition(":")
    cols = tuple(c.strip() for c in rest.split(",") if c.strip())
    if kind not in KINDS:
        raise InvalidRequest(f"unknown row rule {text!r}: use admin, station:COLUMN, entity:KIND,ID or national")
    if kind == "station" and len(cols) != 1:
        raise InvalidRequest(f"row rule {text!r}: station takes one column, e.g. station:station_id")
    if kind == "entity" and len(cols) != 2:
        raise InvalidRequest(f"row rule {text!r}: entity takes two columns, e.g. entity:scope,code")
    if kind == "national" and cols:
        raise InvalidRequest(f"row rule {text!r}: national takes no columns")
    if kind == "admin":
        cols = cols or ADMIN_COLUMNS
        unknown = [c for c in cols if c not in ADMIN_COLUMNS]
        if unknown:
            raise InvalidRequest(f"row rule {text!r}: admin columns are {', '.join(ADMIN_COLUMNS)}, not {', '.join(unknown)}")
    return RowRule(kind, cols)


def resolve_rule(columns: Sequence[str], declared: RowRule | None, table: str) -> RowRule:
    """The declared rule checked against the table's columns, or the rule its columns imply."""
    names = set(columns)
    if declared is not None:
        if declared.kind == "admin":
            present = tuple(c for c in declared.columns if c in names)
            if not present:
                raise InvalidRequest(f"{table}: row rule admin but none of {', '.join(declared.columns)} is a column")
            return RowRule("admin", present)
        missing = [c for c in declared.columns if c not in names]
        if missing:
            raise InvalidRequest(f"{table}: row rule {declared} names missing column(s) {', '.join(missing)}")
        return declared
    admin = tuple(c for c in ADMIN_COLUMNS if c in names)
    if admin:
        return RowRule("admin", admin)
    if "station_id" in names:
        return RowRule("station", ("station_id",))
    for kind, ident in _ENTITY_PAIRS:
        if kind in names and ident in names:
            return RowRule("entity", (kind, ident))
    return RowRule("national")


class StationIndex:
    """station_id -> finest admin code, from one version of silver.stations."""

    def __init__(self, stations: pa.Table, version: int) -> None:
        self.version = version
        self.ids = pc.cast(stations.column("station_id"), pa.string()).combine_chunks()
        self.codes = finest_code(*(stations.column(c) if c in stations.column_names else None for c in ADMIN_COLUMNS))
        if isinstance(self.codes, pa.ChunkedArray):
            self.codes = self.codes.combine_chunks()

    def __len__(self) -> int:
        return len(self.ids)

    def codes_for(self, station_ids: pa.ChunkedArray | pa.Array) -> pa.Array:
        """The finest code of each station id; null where the station is unknown."""
        idx = pc.index_in(pc.cast(station_ids, pa.string()), value_set=self.ids)
        return pc.take(self.codes, idx)


def row_codes(table: pa.Table, rule: RowRule, stations: StationIndex | None) -> pa.ChunkedArray | pa.Array:
    """Each row's finest code under the rule (null: cannot be placed)."""
    n = table.num_rows
    nulls = pa.nulls(n, pa.string())
    if rule.kind == "admin":
        cols = {c: table.column(c) for c in rule.columns}
        return finest_code(cols.get("county_code"), cols.get("city_code"), cols.get("province_code"))
    if rule.kind == "station":
        return stations.codes_for(table.column(rule.columns[0])) if stations is not None else nulls
    if rule.kind == "entity":
        kind = pc.cast(table.column(rule.columns[0]), pa.string())
        ident = pc.cast(table.column(rule.columns[1]), pa.string())
        via_station = stations.codes_for(ident) if stations is not None else nulls
        is_region = pc.fill_null(pc.is_in(kind, value_set=pa.array(REGION_KINDS)), False)
        is_station = pc.fill_null(pc.equal(kind, STATION_KIND), False)
        return pc.if_else(is_region, ident, pc.if_else(is_station, via_station, nulls))
    return nulls


def filter_rows(table: pa.Table, rule: RowRule, area: Area, stations: StationIndex | None) -> pa.Table:
    """The rows of `table` that lie in `area` (all rows for the nation)."""
    if area.is_national:
        return table
    if rule.national_only:
        return table.slice(0, 0)
    return table.filter(visible_mask(row_codes(table, rule, stations), area))
