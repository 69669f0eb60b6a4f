"""energy-use: enterprises' monthly fuel use (simulated): coal in t, natural gas in 10^4 m3."""

from __future__ import annotations

from pathlib import Path

from jobs.bronze.base import Parsed, mapped_csv
from smartmon.catalog.names import BRONZE_ENERGY_USE, SILVER_ENERGY_USE

NAME = "energy-use"
BRONZE = BRONZE_ENERGY_USE
FOLDER = ""  # landing zone only
SOURCE = NAME
FEEDS = (SILVER_ENERGY_USE,)
LAYOUTS = {"monthly": ["enterprise_id", "month", "fuel", "amount", "unit"]}


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    return mapped_csv(path, LAYOUTS)
