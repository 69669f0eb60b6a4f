"""gold.water_class: GB 3838 single-factor evaluation per section, Beijing day and month.

Each parameter's mean of the valid values gets its class and exceedance multiple; the section's
class is the worst of them. Values under an ERROR QC flag (the NH3-N of 70,765 mg/L ...) are
left out unless an auditor marked them valid, and counted in n_excluded. Sections are rivers
unless listed as lakes or reservoirs; the target class is III unless configured.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from smartmon.beijing_time import utc_to_beijing
from smartmon.catalog.names import (
    GOLD_WATER_CLASS,
    SILVER_AUDIT_LOG,
    SILVER_QC_FLAGS,
    SILVER_WATER_OBS,
)
from smartmon.io import Lake
from smartmon.jobspec import WHOLE_TABLE, Job
from smartmon.standards.rounding import snap
from smartmon.standards.water import (
    RIVER,
    TARGET_DEFAULT,
    class_column,
    class_name_column,
    evaluated,
    multiple_column,
)

FLAG_TABLES = (SILVER_WATER_OBS, SILVER_AUDIT_LOG)


def mark_excluded(obs: DataFrame, flags: DataFrame) -> DataFrame:
    """Water observations with `excluded` = under an ERROR flag and not confirmed valid."""
    f = flags.where(F.col("source_table").isin(*FLAG_TABLES))

    def covered(level_rule: F.Column, name: str) -> DataFrame:
        sel = f.where(level_rule).select("station_id", F.col("parameter").alias("_p"), "ts_from", "ts_to")
        hit = obs.alias("o").join(
            sel.alias("f"),
            (F.col("o.station_id") == F.col("f.station_id"))
            & ((F.col("f._p") == F.col("o.parameter")) | (F.col("f._p") == "*"))
            & F.col("o.ts").between(F.col("f.ts_from"), F.col("f.ts_to")),
        )
        return hit.select(F.col("o.station_id").alias("station_id"), F.col("o.ts").alias("ts"), F.col("o.parameter").alias("parameter")).distinct().withColumn(name, F.lit(True))

    bad = covered(F.col("level") == "ERROR", "_bad")
    ok = covered((F.col("rule") == "manual_audit") & (F.col("level") == "INFO"), "_ok")
    keys = ["station_id", "ts", "parameter"]
    out = obs.join(bad, keys, "left").join(ok, keys, "left")
    return out.withColumn("excluded", F.coalesce("_bad", F.lit(False)) & ~F.coalesce("_ok", F.lit(False))).drop("_bad", "_ok")


def water_class(obs: DataFrame, flags: DataFrame, waterbody: str = RIVER, target: int = TARGET_DEFAULT) -> DataFrame:
    """silver.water_obs + silver.qc_flags -> gold.water_class rows (pure transform)."""
    params = evaluated(waterbody)
    marked = mark_excluded(obs.where(F.col("parameter").isin(*params)), flags)
    local = utc_to_beijing(F.col("ts"))
    periods = marked.select(
        "*", F.explode(F.array(
            F.struct(F.lit("day").alias("period_type"), F.date_format(local, "yyyy-MM-dd").alias("period")),
            F.struct(F.lit("month").alias("period_type"), F.date_format(local, "yyyy-MM").alias("period")),
        )).alias("_p"),
    ).select("*", "_p.period_type", "_p.period").drop("_p")
    valid = F.when(~F.col("excluded"), F.col("value"))
    per = periods.groupBy("station_id", "period_type", "period", "parameter").agg(
        snap(F.avg(valid)).alias("value"), F.count(valid).cast("int").alias("n_values"),
        F.sum(F.col("excluded").cast("int")).cast("int").alias("n_excluded"),
    )
    per = per.withColumn("water_class", class_column(F.col("parameter"), F.col("value"), waterbody))
    per = per.withColumn("class_name", class_name_column(F.col("water_class")))
    per = per.withColumn("exceedance_multiple", multiple_column(F.col("parameter"), F.col("value"), target, waterbody))
    w = Window.partitionBy("station_id", "period_type", "period")
    per = per.withColumn("section_class", F.max("water_class").over(w))
    worst = F.array_sort(F.collect_set(F.when(F.col("water_class") == F.col("section_class"), F.col("parameter"))).over(w))
    return (per.withColumn("worst_parameters", F.array_join(worst, ","))
            .withColumn("section_class_name", class_name_column(F.col("section_class")))
            .withColumn("target_class", F.lit(target))
            .withColumn("meets_target", F.col("section_class") <= F.col("target_class")))


def run(lake: Lake) -> dict[str, int]:
    """The whole table from silver (a few thousand values a month per section: no increments)."""
    rows = water_class(lake.read(SILVER_WATER_OBS), lake.read(SILVER_QC_FLAGS))
    res = lake.merge(rows, GOLD_WATER_CLASS, delete_missing_where="true")
    return {"rows_out": res.rows_written}


JOB = Job(
    name=GOLD_WATER_CLASS,
    layer="gold",
    reads=(SILVER_WATER_OBS, SILVER_QC_FLAGS, SILVER_AUDIT_LOG),
    writes=(GOLD_WATER_CLASS,),
    run=lambda ctx: run(ctx.lake),
    scope=WHOLE_TABLE,
    transform=water_class,
    doc="surface-water classes by GB 3838",
)
