"""silver.water_obs: surface-water automatic station values, long, as sent.

Stations of water exports are not in any station list we have: the job registers each
(station_id 'SW-' + pinyin of the name; tier national when the name ends in (国), the
national-control marker; admin codes from the export's city and county columns by name)."""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.silver.conform import (
    LINEAGE_COLS,
    beijing_to_utc,
    bronze_rows,
    invalid_number,
    refusals,
)
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import BRONZE_WATER_AUTO, SILVER_WATER_OBS
from smartmon.io import Lake
from smartmon.lineage import quarantine

log = logging.getLogger(__name__)

# original header -> (parameter, unit)
PARAMETERS = {
    "水温(℃)": ("water_temp", "degC"), "pH": ("ph", "pH"), "溶解氧(mg/L)": ("do", "mg/L"),
    "浊度(NTU)": ("turbidity", "NTU"), "电导率(uS/cm)": ("conductivity", "uS/cm"),
    "高锰酸盐指数(mg/L)": ("codmn", "mg/L"), "氨氮(mg/L)": ("nh3n", "mg/L"), "总磷(mg/L)": ("tp", "mg/L"),
    "总氮(mg/L)": ("tn", "mg/L"),
    "WaterQuality": ("quality_class", "class"), "Temperature": ("water_temp", "degC"),
    "Dissolved Oxygen Concentration": ("do", "mg/L"), "KMnO4": ("codmn", "mg/L"),
    "Ammonia nitrogen": ("nh3n", "mg/L"), "phosphorus": ("tp", "mg/L"), "N2": ("tn", "mg/L"),
    "Conductivity": ("conductivity", "uS/cm"), "Turbidity": ("turbidity", "NTU"),
}
CONTEXT = {"序号", "站点名称", "所在设区市", "所在县(市、区)", "流域", "水系", "水体"}


def station_id_for(name: str) -> str:
    from pypinyin import lazy_pinyin

    core = name.replace("(国)", "").replace("（国）", "")
    slug = "".join(ch for ch in "".join(lazy_pinyin(core)).lower() if ch.isalnum())
    return f"SW-{slug}" + ("-guo" if name != core else "")


def observations(bronze: DataFrame, ids: DataFrame) -> DataFrame:
    mapping = F.create_map(*[x for k, (p, _) in PARAMETERS.items() for x in (F.lit(k), F.lit(p))])
    units = F.create_map(*[x for k, (_, u) in PARAMETERS.items() for x in (F.lit(k), F.lit(u))])
    local = F.coalesce(F.to_timestamp("time", "yyyy-MM-dd HH"), F.to_timestamp("time", "yyyy/M/d H:mm"))
    cells = bronze.join(F.broadcast(ids), "station").select(
        "station_id", beijing_to_utc(local).alias("ts"), F.explode("fields").alias("header", "value_text"), *LINEAGE_COLS
    ).where(~F.col("header").isin(*CONTEXT))
    return cells.select(
        "station_id", "ts", mapping[F.col("header")].alias("parameter"), units[F.col("header")].alias("unit"),
        F.trim("value_text").try_cast("double").alias("value"), "value_text", "header", *LINEAGE_COLS,
    )


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    from jobs.silver.stations import register_discovered

    spark = lake.spark
    bronze = bronze_rows(lake, BRONZE_WATER_AUTO, "water-auto", batches)
    if bronze is None:
        return {"rows_in": 0}
    found = bronze.select(
        "station",
        F.col("fields")["所在设区市"].alias("city_name"),
        F.col("fields")["所在县(市、区)"].alias("county_name"),
        "source", "source_file", "source_line", "batch_id", "ingested_at",
    ).dropDuplicates(["station"]).collect()
    ids = spark.createDataFrame([(r.station, station_id_for(r.station)) for r in found], "station string, station_id string")
    register_discovered(lake, [
        dict(station_id=station_id_for(r.station), name=r.station, tier="national" if "(国)" in r.station else None,
             kind="surface_water", network="water-auto", city_name=r.city_name, county_name=r.county_name,
             source=r.source, source_file=r.source_file, source_line=r.source_line, batch_id=r.batch_id, ingested_at=r.ingested_at)
        for r in found
    ])
    obs = observations(bronze, ids).cache()
    bad = obs.where(F.col("parameter").isNull() | invalid_number(F.col("value_text")) | F.col("ts").isNull())
    refused = refusals(
        bad,
        F.when(F.col("parameter").isNull(), F.concat(F.lit("unknown water parameter header "), F.col("header")))
        .when(F.col("ts").isNull(), F.lit("time not readable"))
        .otherwise(F.concat(F.lit("non-numeric value for "), F.col("parameter"))),
        F.col("value_text"),
    )
    good = obs.where(F.col("parameter").isNotNull() & F.col("ts").isNotNull() & F.col("value").isNotNull()).drop("header")
    result = lake.merge(good.dropDuplicates(["station_id", "ts", "parameter"]), SILVER_WATER_OBS)
    q = quarantine(lake, refused, stage=SILVER_WATER_OBS)
    obs.unpersist()
    return {"rows_out": result.rows_written, "quarantined": q.rows_inserted, "stations": len(found)}


JOB = silver_job(SILVER_WATER_OBS, run, transform=observations)
