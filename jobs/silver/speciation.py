"""silver.speciation: PMF-layout speciation feeds, long (sample, species, concentration,
uncertainty). Each dataset is registered as a station of its real kind and origin."""

from __future__ import annotations

from pyspark.sql import functions as F

from jobs.silver.conform import LINEAGE_COLS, bronze_rows, invalid_number, refusals
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import BRONZE_PMF_SPECIATION, SILVER_SPECIATION
from smartmon.io import Lake
from smartmon.lineage import quarantine

# dataset -> (kind, where it is): what the EPA PMF5 sample files are (SOURCE.txt).
SITES = {
    "baltimore": ("pm_composition", "Baltimore, MD, USA (PM2.5 speciation, daily filters)"),
    "stlouis": ("supersite", "St. Louis Supersite, MO, USA (hourly PM, metals)"),
    "batonrouge": ("photochemical", "Baton Rouge, LA, USA (PAMS VOCs)"),
}


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    from jobs.silver.stations import register_discovered

    bronze = bronze_rows(lake, BRONZE_PMF_SPECIATION, "epa-pmf", batches)
    if bronze is None:
        return {"rows_in": 0}
    first = bronze.groupBy("dataset").agg(*[F.first(c).alias(c) for c in LINEAGE_COLS]).collect()
    register_discovered(lake, [
        dict(station_id=f"EPA-{r.dataset}", name=SITES.get(r.dataset, ("pm_composition", r.dataset))[1], tier=None,
             kind=SITES.get(r.dataset, ("pm_composition", ""))[0], network="us-epa-pmf5", city_name=None, county_name=None,
             source=r.source, source_file=r.source_file, source_line=r.source_line, batch_id=r.batch_id, ingested_at=r.ingested_at)
        for r in first
    ])
    when = F.coalesce(F.to_timestamp("sample", "M/d/yyyy H:mm"), F.to_timestamp("sample", "M/d/yyyy"))
    long = bronze.select(
        F.concat(F.lit("EPA-"), F.col("dataset")).alias("station_id"), "dataset", when.alias("sample_time"),
        F.explode("concentration").alias("species", "c_text"), "uncertainty", *LINEAGE_COLS,
    ).withColumn("u_text", F.col("uncertainty")[F.col("species")]).drop("uncertainty").cache()
    bad = long.where(F.col("sample_time").isNull() | invalid_number(F.col("c_text")) | invalid_number(F.col("u_text")))
    refused = refusals(
        bad,
        F.when(F.col("sample_time").isNull(), "sample time not readable").otherwise(
            F.concat(F.lit("non-numeric concentration or uncertainty for "), F.col("species"))),
        F.concat_ws("|", "c_text", "u_text"),
    )
    good = long.where(F.col("sample_time").isNotNull()).select(
        "station_id", "dataset", "sample_time", "species",
        F.trim("c_text").try_cast("double").alias("concentration"), F.trim("u_text").try_cast("double").alias("uncertainty"),
        *LINEAGE_COLS,
    ).dropDuplicates(["station_id", "sample_time", "species"])
    result = lake.merge(good, SILVER_SPECIATION)
    q = quarantine(lake, refused, stage=SILVER_SPECIATION)
    long.unpersist()
    return {"rows_out": result.rows_written, "quarantined": q.rows_inserted}


JOB = silver_job(SILVER_SPECIATION, run)
