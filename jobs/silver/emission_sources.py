"""silver.emission_sources: the pollution-source registry (enterprises feed), H3-indexed once."""

from __future__ import annotations

from pyspark.sql import DataFrame

from jobs.silver.conform import LINEAGE_COLS
from jobs.silver.fields import Field, admin_codes, conform_feed
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import BRONZE_ENTERPRISES, SILVER_EMISSION_SOURCES
from smartmon.geo.h3cells import with_h3
from smartmon.io import Lake

FIELDS = {"source_id": Field("企业编码"), "name": Field("企业名称"), "sector": Field("行业"), "mn": Field("数采仪MN"),
          "st": Field("系统编码ST"), "capacity": Field("产能", "double", required=False), "capacity_unit": Field("产能单位", required=False),
          "county_code": Field("区县代码"), "lon": Field("经度", "double"), "lat": Field("纬度", "double"),
          "receiving_section": Field("受纳断面", required=False)}


def shape(rows: DataFrame) -> DataFrame:
    return with_h3(rows.select("source_id", "name", "sector", "mn", "st", "capacity", "capacity_unit", *admin_codes(),
                               "county_code", "lat", "lon", "receiving_section", *LINEAGE_COLS))


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    return conform_feed(lake, batches, BRONZE_ENTERPRISES, "enterprises", FIELDS, SILVER_EMISSION_SOURCES, shape=shape)


JOB = silver_job(SILVER_EMISSION_SOURCES, run, transform=shape)
