"""silver.river_sections and silver.section_flow from the hydrology feed (two layouts)."""

from __future__ import annotations

from pyspark.sql import DataFrame

from jobs.silver.conform import LINEAGE_COLS
from jobs.silver.fields import Field, admin_codes, conform_feed
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import (
    BRONZE_HYDROLOGY,
    SILVER_RIVER_SECTIONS,
    SILVER_SECTION_FLOW,
)
from smartmon.geo.h3cells import with_h3
from smartmon.io import Lake

SECTIONS = {"section_id": Field("断面编码"), "name": Field("断面名称"), "river": Field("河流"), "seq": Field("序号", "int"),
            "downstream_id": Field("下游断面", required=False), "county_code": Field("区县代码"), "lon": Field("经度", "double"),
            "lat": Field("纬度", "double"), "target_class": Field("目标水质", required=False)}
FLOW = {"section_id": Field("断面编码"), "date": Field("日期", "date"), "flow_m3s": Field("流量(立方米每秒)", "double"),
        "stage_m": Field("水位(米)", "double", required=False)}


def _sections(rows: DataFrame) -> DataFrame:
    return with_h3(rows.select("section_id", "name", "river", "seq", "downstream_id", *admin_codes(), "county_code", "lat", "lon",
                               "target_class", *LINEAGE_COLS))


def run_sections(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    return conform_feed(lake, batches, BRONZE_HYDROLOGY, "hydrology", SECTIONS, SILVER_RIVER_SECTIONS, layout="sections",
                        shape=_sections)


def run_flow(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    return conform_feed(lake, batches, BRONZE_HYDROLOGY, "hydrology", FLOW, SILVER_SECTION_FLOW, layout="daily-flow")


JOBS = (silver_job(SILVER_RIVER_SECTIONS, run_sections, transform=_sections), silver_job(SILVER_SECTION_FLOW, run_flow))
