"""silver.county_stats: county yearbook figures (GDP, resident population)."""

from __future__ import annotations

from jobs.silver.fields import Field, conform_feed
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import BRONZE_STATISTICS, SILVER_COUNTY_STATS
from smartmon.io import Lake

FIELDS = {"county_code": Field("区县代码"), "year": Field("年份", "int"), "county_name": Field("区县名称", required=False),
          "gdp_1e8_yuan": Field("地区生产总值(亿元)", "double"), "population_1e4": Field("常住人口(万人)", "double")}


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    return conform_feed(lake, batches, BRONZE_STATISTICS, "statistics", FIELDS, SILVER_COUNTY_STATS)


JOB = silver_job(SILVER_COUNTY_STATS, run)
