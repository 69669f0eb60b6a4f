"""GB/T 2260 admin codes nest by digits: 11xxxx is Beijing, 1101xx its city districts, 110101
Dongcheng. An area is therefore a code prefix, and "inside the area" is one string comparison;
the reports and the sharing server both scope rows this way."""

from __future__ import annotations

NATION_CODE = "000000"


def area_prefix(tier: str, code: str) -> str:
    """The prefix every code inside the area starts with ('' for the nation)."""
    if tier in ("nation", "national"):
        return ""
    try:
        return {"province": code[:2], "city": code[:4], "county": code}[tier]
    except KeyError as exc:
        raise ValueError(f"unknown tier {tier!r}: nation, province, city or county") from exc
