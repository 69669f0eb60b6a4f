"""enterprises: the pollution-source registry's enterprise list (simulated): UTF-8 with BOM,
Chinese headers, one enterprise per line with its HJ 212 data logger id (MN) and position."""

from __future__ import annotations

from pathlib import Path

from jobs.bronze.base import Parsed, mapped_csv
from smartmon.catalog.names import BRONZE_ENTERPRISES, SILVER_EMISSION_SOURCES

NAME = "enterprises"
BRONZE = BRONZE_ENTERPRISES
FOLDER = ""  # landing zone only
SOURCE = NAME
FEEDS = (SILVER_EMISSION_SOURCES,)
LAYOUTS = {"registry": ["企业编码", "企业名称", "行业", "数采仪MN", "系统编码ST", "区县代码", "经度", "纬度"]}


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    return mapped_csv(path, LAYOUTS)
