"""silver.energy_use: monthly fuel use per enterprise, in the fuel's own unit."""

from __future__ import annotations

from jobs.silver.conform import bronze_rows
from jobs.silver.fields import Field, extract, write
from smartmon.io import Lake

FIELDS = {"source_id": Field("enterprise_id"), "month": Field("month"), "fuel": Field("fuel"), "amount": Field("amount", "double"),
          "unit": Field("unit"), "days_covered": Field("days_covered", "int", required=False)}


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    bronze = bronze_rows(lake, "bronze.energy_use", "energy-use", batches)
    if bronze is None:
        return {"rows_in": 0}
    rows, refused = extract(bronze, FIELDS)
    return write(lake, rows, refused, "silver.energy_use")
