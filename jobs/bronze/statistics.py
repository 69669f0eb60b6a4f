"""statistics: county yearbook figures (simulated): GDP in 10^8 yuan, resident population in 10^4."""

from __future__ import annotations

from pathlib import Path

from jobs.bronze.base import Parsed, mapped_csv
from smartmon.catalog.names import BRONZE_STATISTICS, SILVER_COUNTY_STATS

NAME = "statistics"
BRONZE = BRONZE_STATISTICS
FOLDER = ""  # landing zone only
SOURCE = NAME
FEEDS = (SILVER_COUNTY_STATS,)
LAYOUTS = {"county-yearly": ["区县代码", "年份", "地区生产总值(亿元)", "常住人口(万人)"]}


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    return mapped_csv(path, LAYOUTS)
