"""silver.source_emissions: hourly emissions of registered sources from their HJ 212 hour data.

Reads the silver.hj212_values rows of the pending hj212 batches (so it runs after that job),
keeps CN 2061 Avg/Cou of the source pollutant codes, and joins silver.emission_sources on MN.
Values of loggers not in the registry stay in silver.hj212_values (counted in the summary)."""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.silver.conform import month_local
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import (
    SILVER_EMISSION_SOURCES,
    SILVER_HJ212_VALUES,
    SILVER_SOURCE_EMISSIONS,
)
from smartmon.io import Lake

log = logging.getLogger(__name__)

# HJ 212 code -> (pollutant, unit of Cou)
CODES = {"a21026": ("so2", "kg"), "a21002": ("nox", "kg"), "a34013": ("smoke_dust", "kg"), "a00000": ("flue_gas", "m3"),
         "w01018": ("cod", "kg"), "w21003": ("nh3n", "kg"), "w21011": ("tp", "kg"), "w00000": ("wastewater_flow", "m3")}


def emissions(values: DataFrame, registry: DataFrame) -> DataFrame:
    pol = F.create_map(*[x for k, (p, _) in CODES.items() for x in (F.lit(k), F.lit(p))])
    unit = F.create_map(*[x for k, (_, u) in CODES.items() for x in (F.lit(k), F.lit(u))])
    hourly = values.where((F.col("cn") == "2061") & F.col("code").isin(*CODES) & F.col("field").isin("Avg", "Cou"))
    wide = hourly.groupBy("mn", "data_time", "code").agg(
        F.max(F.when(F.col("field") == "Cou", F.col("value"))).alias("amount"),
        F.max(F.when(F.col("field") == "Avg", F.col("value"))).alias("mean_concentration"),
        F.max("data_flag").alias("data_flag"),
        F.min("source").alias("source"), F.min("source_file").alias("source_file"), F.min("source_line").alias("source_line"),
        F.min("batch_id").alias("batch_id"), F.min("ingested_at").alias("ingested_at"),
    )
    reg = registry.select("source_id", "mn", "sector")
    return wide.join(F.broadcast(reg), "mn").select(
        "source_id", F.col("data_time").alias("ts"), month_local(F.col("data_time")).alias("month"),
        pol[F.col("code")].alias("pollutant"), "amount", unit[F.col("code")].alias("amount_unit"), "mean_concentration",
        "data_flag", "mn", "sector", "source", "source_file", "source_line", "batch_id", "ingested_at",
    )


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    values = lake.read(SILVER_HJ212_VALUES)
    if batches is not None:
        ids = batches.get("hj212")
        if not ids:
            return {"rows_in": 0}
        values = values.where(F.col("batch_id").isin(ids))
    rows = emissions(values, lake.read(SILVER_EMISSION_SOURCES))
    result = lake.merge(rows, SILVER_SOURCE_EMISSIONS)
    summary = {"rows_out": result.rows_written}
    log.info("silver.source_emissions: %s", summary)
    return summary


JOB = silver_job(SILVER_SOURCE_EMISSIONS, run, reads=(SILVER_HJ212_VALUES, SILVER_EMISSION_SOURCES), transform=emissions)
