"""silver.power_use: daily electricity per enterprise account and per county and sector, in kWh
(county totals arrive in 10^4 kWh and are multiplied once, here)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.silver.conform import LINEAGE_COLS, bronze_rows
from jobs.silver.fields import Field, extract, write
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import BRONZE_POWER_USE, SILVER_POWER_USE
from smartmon.io import Lake

ENTERPRISE = {"source_id": Field("用户编号"), "sector": Field("行业", required=False), "county_code": Field("区县代码", required=False),
              "date": Field("日期", "date"), "kwh": Field("用电量(千瓦时)", "double")}
COUNTY = {"county_code": Field("区县代码"), "date": Field("日期", "date"), "sector": Field("行业"), "kwh": Field("用电量(万千瓦时)", "double")}


def usage(bronze: DataFrame) -> tuple[DataFrame, DataFrame]:
    ent, bad_e = extract(bronze.where("layout = 'enterprise-daily'"), ENTERPRISE)
    ent = ent.select(F.col("source_id").alias("consumer_id"), "date", F.lit("enterprise").alias("consumer_kind"), "source_id",
                     "county_code", "sector", "kwh", F.lit("kWh").alias("source_unit"), *LINEAGE_COLS)
    cty, bad_c = extract(bronze.where("layout = 'county-daily'"), COUNTY)
    cty = cty.select(F.concat_ws(":", F.lit("county"), "county_code", "sector").alias("consumer_id"), "date",
                     F.lit("county-sector").alias("consumer_kind"), F.lit(None).cast("string").alias("source_id"),
                     "county_code", "sector", (F.col("kwh") * 1e4).alias("kwh"), F.lit("10^4 kWh").alias("source_unit"), *LINEAGE_COLS)
    return ent.unionByName(cty), bad_e.unionByName(bad_c)


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    bronze = bronze_rows(lake, BRONZE_POWER_USE, "power-use", batches)
    if bronze is None:
        return {"rows_in": 0}
    rows, refused = usage(bronze)
    return write(lake, rows, refused, SILVER_POWER_USE)


JOB = silver_job(SILVER_POWER_USE, run, transform=usage)
