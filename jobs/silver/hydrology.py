"""silver.river_sections and silver.section_flow from the hydrology feed (two layouts)."""

from __future__ import annotations

from pyspark.sql import functions as F

from jobs.silver.conform import LINEAGE_COLS, bronze_rows
from jobs.silver.fields import Field, extract, write
from smartmon.geo.h3cells import with_h3
from smartmon.io import Lake

SECTIONS = {"section_id": Field("断面编码"), "name": Field("断面名称"), "river": Field("河流"), "seq": Field("序号", "int"),
            "downstream_id": Field("下游断面", required=False), "county_code": Field("区县代码"), "lon": Field("经度", "double"),
            "lat": Field("纬度", "double"), "target_class": Field("目标水质", required=False)}
FLOW = {"section_id": Field("断面编码"), "date": Field("日期", "date"), "flow_m3s": Field("流量(立方米每秒)", "double"),
        "stage_m": Field("水位(米)", "double", required=False)}


def run_sections(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    bronze = bronze_rows(lake, "bronze.hydrology", "hydrology", batches)
    if bronze is None:
        return {"rows_in": 0}
    rows, refused = extract(bronze.where("layout = 'sections'"), SECTIONS)
    rows = rows.select(
        "section_id", "name", "river", "seq", "downstream_id",
        F.concat(F.substring("county_code", 1, 2), F.lit("0000")).alias("province_code"),
        F.concat(F.substring("county_code", 1, 4), F.lit("00")).alias("city_code"),
        "county_code", "lat", "lon", "target_class", *LINEAGE_COLS,
    )
    return write(lake, with_h3(rows), refused, "silver.river_sections")


def run_flow(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    bronze = bronze_rows(lake, "bronze.hydrology", "hydrology", batches)
    if bronze is None:
        return {"rows_in": 0}
    rows, refused = extract(bronze.where("layout = 'daily-flow'"), FLOW)
    return write(lake, rows, refused, "silver.section_flow")
