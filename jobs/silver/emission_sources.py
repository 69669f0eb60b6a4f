"""silver.emission_sources: the pollution-source registry (enterprises feed), H3-indexed once."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.silver.conform import LINEAGE_COLS, bronze_rows
from jobs.silver.fields import Field, extract, write
from smartmon.geo.h3cells import with_h3
from smartmon.io import Lake

FIELDS = {"source_id": Field("企业编码"), "name": Field("企业名称"), "sector": Field("行业"), "mn": Field("数采仪MN"),
          "st": Field("系统编码ST"), "capacity": Field("产能", "double", required=False), "capacity_unit": Field("产能单位", required=False),
          "county_code": Field("区县代码"), "lon": Field("经度", "double"), "lat": Field("纬度", "double"),
          "receiving_section": Field("受纳断面", required=False)}


def sources(bronze: DataFrame) -> tuple[DataFrame, DataFrame]:
    rows, refused = extract(bronze, FIELDS)
    rows = rows.select(
        "source_id", "name", "sector", "mn", "st", "capacity", "capacity_unit",
        F.concat(F.substring("county_code", 1, 2), F.lit("0000")).alias("province_code"),
        F.concat(F.substring("county_code", 1, 4), F.lit("00")).alias("city_code"),
        "county_code", "lat", "lon", "receiving_section", *LINEAGE_COLS,
    )
    return with_h3(rows), refused


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    bronze = bronze_rows(lake, "bronze.enterprises", "enterprises", batches)
    if bronze is None:
        return {"rows_in": 0}
    rows, refused = sources(bronze)
    return write(lake, rows, refused, "silver.emission_sources")
