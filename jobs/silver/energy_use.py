"""silver.energy_use: monthly fuel use per enterprise, in the fuel's own unit."""

from __future__ import annotations

from jobs.silver.fields import Field, conform_feed
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import BRONZE_ENERGY_USE, SILVER_ENERGY_USE
from smartmon.io import Lake

FIELDS = {"source_id": Field("enterprise_id"), "month": Field("month"), "fuel": Field("fuel"), "amount": Field("amount", "double"),
          "unit": Field("unit"), "days_covered": Field("days_covered", "int", required=False)}


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    return conform_feed(lake, batches, BRONZE_ENERGY_USE, "energy-use", FIELDS, SILVER_ENERGY_USE)


JOB = silver_job(SILVER_ENERGY_USE, run)
