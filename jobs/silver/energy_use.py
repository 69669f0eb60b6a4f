"""silver.energy_use: monthly fuel use per enterprise, in the fuel's own unit."""

from __future__ import annotations

from jobs.silver.fields import Field, conform_feed
from smartmon.io import Lake

FIELDS = {"source_id": Field("enterprise_id"), "month": Field("month"), "fuel": Field("fuel"), "amount": Field("amount", "double"),
          "unit": Field("unit"), "days_covered": Field("days_covered", "int", required=False)}


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    return conform_feed(lake, batches, "bronze.energy_use", "energy-use", FIELDS, "silver.energy_use")
