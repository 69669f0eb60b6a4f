"""provincial-air: provincial platforms' hourly air exports (simulated): GBK, Chinese headers,
'2019/1/5 13:00' Beijing time at the end of the hour, CO in mg/m3, the rest in ug/m3."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame

from jobs.bronze.base import Parsed, flat_csv
from jobs.silver.air_rows import wide
from jobs.silver.air_tiers import provincial_base
from smartmon.catalog.names import BRONZE_PROVINCIAL_AIR, SILVER_AIR_HOURLY
from smartmon.io import Lake

NAME = "provincial-air"
BRONZE = BRONZE_PROVINCIAL_AIR
FOLDER = ""  # landing zone only
SOURCE = NAME
FEEDS = (SILVER_AIR_HOURLY,)
HEADER = ["站点编码", "监测时间", "PM2.5(μg/m3)", "PM10(μg/m3)", "SO2(μg/m3)", "NO2(μg/m3)", "CO(mg/m3)", "O3(μg/m3)"]
NAMES = ["station_code", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    return flat_csv(path, HEADER, NAMES, encoding="gbk")


def air_rows(bronze: DataFrame, lake: Lake) -> DataFrame:
    """Wide rows for silver.air_hourly (units and time convention: jobs/silver/air_tiers.py)."""
    return wide(*provincial_base(bronze))
