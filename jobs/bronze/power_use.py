"""power-use: the grid company's monthly exports (simulated), UTF-8 with BOM: daily kWh per
enterprise account, and daily county totals by sector in 10^4 kWh."""

from __future__ import annotations

from pathlib import Path

from jobs.bronze.base import Parsed, mapped_csv
from smartmon.catalog.names import BRONZE_POWER_USE, SILVER_POWER_USE

NAME = "power-use"
BRONZE = BRONZE_POWER_USE
FOLDER = ""  # landing zone only
SOURCE = NAME
FEEDS = (SILVER_POWER_USE,)
LAYOUTS = {
    "enterprise-daily": ["用户编号", "行业", "区县代码", "日期", "用电量(千瓦时)"],
    "county-daily": ["区县代码", "日期", "行业", "用电量(万千瓦时)"],
}


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    return mapped_csv(path, LAYOUTS)
