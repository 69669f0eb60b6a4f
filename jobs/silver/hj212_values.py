"""silver.hj212_values: the values HJ 212 frames carry, one row per device, time, code, field.

CP payloads are split with Spark built-ins. DataTime is Beijing time (yyyyMMddHHmmss, sometimes
with milliseconds). Pollutant codes are kept as sent; parameter names are given for the codes
in ../shared/STANDARDS.md and the common HJ/T 212-2005 water codes (001 pH, 011 COD, 060 NH3-N,
101 TP, B01 flow)."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from jobs.silver.conform import LINEAGE_COLS, beijing_to_utc, bronze_rows, refusals
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import BRONZE_HJ212_FRAMES, SILVER_HJ212_VALUES
from smartmon.io import Lake
from smartmon.lineage import quarantine

CODES = {
    "a34004": "pm25", "a34002": "pm10", "a21026": "so2", "a21004": "no2", "a21005": "co", "a05024": "o3",
    "a21002": "nox", "a34013": "smoke_dust", "w01018": "cod", "w01019": "codmn", "w21003": "nh3n",
    "w21011": "tp", "w21001": "tn", "w01009": "do", "w01001": "ph", "w00000": "wastewater_flow",
    "001": "ph", "011": "cod", "060": "nh3n", "101": "tp", "B01": "wastewater_flow",
}


def values(frames: DataFrame) -> DataFrame:
    parts = frames.select(
        "st", "cn", "mn", "crc", "qn", *LINEAGE_COLS,
        F.explode(F.split(F.regexp_replace("cp", ";", ","), ",")).alias("part"),
    ).where(F.col("part").contains("="))
    kv = parts.select("*", F.split("part", "=", 2).alias("kv")).select(
        "*", F.trim(F.col("kv")[0]).alias("k"), F.trim(F.col("kv")[1]).alias("v")
    )
    frame_key = ["source_file", "source_line"]
    when = kv.where(F.col("k") == "DataTime").select(
        *frame_key, beijing_to_utc(F.to_timestamp(F.substring("v", 1, 14), "yyyyMMddHHmmss")).alias("data_time")
    )
    coded = kv.where(F.col("k").contains("-")).select(
        "*", F.split("k", "-", 2)[0].alias("code"), F.split("k", "-", 2)[1].alias("field")
    )
    flags = coded.where(F.col("field") == "Flag").select(*frame_key, "code", F.col("v").alias("data_flag"))
    mapping = F.create_map(*[x for k, v in CODES.items() for x in (F.lit(k), F.lit(v))])
    measured = coded.where(F.col("field") != "Flag").join(when, frame_key, "left").join(flags, [*frame_key, "code"], "left")
    return measured.select(
        "mn", "data_time", "cn", "st", "code", mapping[F.col("code")].alias("parameter"), "field",
        F.col("v").try_cast("double").alias("value"), F.col("v").alias("value_text"), "data_flag", "crc", "qn", *LINEAGE_COLS,
    )


def latest(rows: DataFrame) -> DataFrame:
    """One row per value key: the frame with the greatest QN (when it was sent), then the later
    delivery (batch time, file, line), so a correction re-sent by a device wins and an old frame
    re-sent late does not."""
    order = Window.partitionBy("mn", "data_time", "cn", "code", "field").orderBy(
        F.col("qn").desc_nulls_last(), F.col("ingested_at").desc(), F.col("source_file").desc(), F.col("source_line").desc())
    return rows.withColumn("_n", F.row_number().over(order)).where("_n = 1").drop("_n")


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    frames = bronze_rows(lake, BRONZE_HJ212_FRAMES, "hj212", batches)
    if frames is None:
        return {"rows_in": 0}
    rows = values(frames).cache()
    bad = rows.where(F.col("data_time").isNull() | (F.col("value").isNull() & (F.col("value_text") != "")))
    refused = refusals(
        bad,
        F.when(F.col("data_time").isNull(), "frame has no readable DataTime").otherwise(
            F.concat(F.lit("non-numeric value for "), F.col("code"), F.lit("-"), F.col("field"))
        ),
        F.col("value_text"),
    ).dropDuplicates(["source_file", "source_line", "reason", "raw_payload"])
    good = latest(rows.where(F.col("data_time").isNotNull()).drop("value_text"))
    result = lake.merge(good, SILVER_HJ212_VALUES, newer="qn")
    q = quarantine(lake, refused, stage=SILVER_HJ212_VALUES)
    rows.unpersist()
    return {"rows_out": result.rows_written, "quarantined": q.rows_inserted}


JOB = silver_job(SILVER_HJ212_VALUES, run, transform=values)
