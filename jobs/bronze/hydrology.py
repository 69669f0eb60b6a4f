"""hydrology: river sections and their daily mean flow (simulated), UTF-8, Chinese headers."""

from __future__ import annotations

from pathlib import Path

from jobs.bronze.base import Parsed, mapped_csv
from smartmon.catalog.names import (
    BRONZE_HYDROLOGY,
    SILVER_RIVER_SECTIONS,
    SILVER_SECTION_FLOW,
)

NAME = "hydrology"
BRONZE = BRONZE_HYDROLOGY
FOLDER = ""  # landing zone only
SOURCE = NAME
FEEDS = (SILVER_RIVER_SECTIONS, SILVER_SECTION_FLOW)
LAYOUTS = {
    "sections": ["断面编码", "断面名称", "河流", "序号", "下游断面", "区县代码", "经度", "纬度"],
    "daily-flow": ["断面编码", "日期", "流量(立方米每秒)"],
}


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    return mapped_csv(path, LAYOUTS)
