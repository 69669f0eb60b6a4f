"""Tier scopes: the area a recipient may see, given as a tier and a GB/T 2260 code.

GB/T 2260 codes are hierarchical by digits: 11xxxx is Beijing, 1101xx its city districts,
110101 Dongcheng. So an area is a code prefix (province "11", city "1101", county all six
digits, the nation "") and a row lies in the area when its finest known code starts with that
prefix. This keeps the rule one string comparison, vectorised over Arrow, and makes the
hierarchy hold by construction: a row a county sees, its city and province see too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from smartmon.geo.gbt2260 import NATION_CODE, area_prefix
from smartmon.sharing.errors import InvalidRequest

TIERS = ("nation", "province", "city", "county")
_ALIASES = {"national": "nation", "country": "nation", "prefecture": "city", "district": "county"}
_SIX_DIGITS = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Area:
    """A tier scope: `nation` sees every row, the others the rows whose code has their prefix."""

    tier: str
    code: str

    @property
    def prefix(self) -> str:
        """The code prefix every row of the area starts with ('' for the nation)."""
        return area_prefix(self.tier, self.code)

    @property
    def key(self) -> str:
        """Stable folder and cache key, e.g. province-110000."""
        return f"{self.tier}-{self.code}"

    @property
    def is_national(self) -> bool:
        return self.tier == "nation"

    def contains(self, code: str | None) -> bool:
        """Whether a row whose finest known code is `code` lies in the area (None: unplaced)."""
        if self.is_national:
            return True
        return code is not None and code.startswith(self.prefix)

    def __str__(self) -> str:
        return self.key


def parse_area(tier: str, code: str | None) -> Area:
    """Validate a tier and code as GB/T 2260 lays them out; the error says what a valid one looks like."""
    t = _ALIASES.get(tier.strip().lower(), tier.strip().lower())
    if t not in TIERS:
        raise InvalidRequest(f"unknown tier {tier!r}: use one of {', '.join(TIERS)}")
    if t == "nation":
        if code not in (None, "", NATION_CODE):
            raise InvalidRequest(f"the nation tier takes no code (or {NATION_CODE}), got {code!r}")
        return Area("nation", NATION_CODE)
    if not code or not _SIX_DIGITS.match(code):
        raise InvalidRequest(f"tier {t} needs a 6-digit GB/T 2260 code (e.g. 110000, 110100, 110101), got {code!r}")
    head, mid, tail = code[:2], code[2:4], code[4:]
    if head == "00":
        raise InvalidRequest(f"{code} is not a GB/T 2260 area code: the province digits 00 do not exist")
    if t == "province" and (mid, tail) != ("00", "00"):
        raise InvalidRequest(f"tier province needs a code ending in 0000 (e.g. {head}0000), got {code}")
    if t == "city" and (mid == "00" or tail != "00"):
        hint = " (a province code: use --tier province)" if mid == "00" else " (a county code: use --tier county)"
        raise InvalidRequest(f"tier city needs a prefecture code like {head}0100 (digits 3-4 not 00, ending in 00), got {code}{hint}")
    if t == "county" and tail == "00":
        raise InvalidRequest(f"tier county needs a code whose last two digits are not 00 (e.g. {code[:4]}01), got {code}")
    return Area(t, code)


def finest_code(county: pa.ChunkedArray | pa.Array | None, city: pa.ChunkedArray | pa.Array | None,
                province: pa.ChunkedArray | pa.Array | None) -> pa.ChunkedArray | pa.Array:
    """The most specific non-null code of each row: county, else city, else province."""
    present = [pc.cast(a, pa.string()) for a in (county, city, province) if a is not None]
    if not present:
        raise InvalidRequest("no admin code column to place rows by")
    return present[0] if len(present) == 1 else pc.coalesce(*present)


def visible_mask(codes: pa.ChunkedArray | pa.Array, area: Area) -> pa.ChunkedArray | pa.Array:
    """True where the row lies in the area; rows with no code (unplaced) are visible to the nation only."""
    if area.is_national:
        return pa.repeat(True, len(codes))
    return pc.fill_null(pc.starts_with(pc.cast(codes, pa.string()), pattern=area.prefix), False)
