"""Surface-water QC over silver.water_obs (pure transforms): impossible values, pH, dissolved
oxygen above saturation, and suspicious precision (values with long decimal tails that look
computed or filled in rather than measured)."""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smartmon.catalog.names import SILVER_WATER_OBS
from smartmon.qc.flagframe import as_flags, fmt, lookup
from smartmon.qc.rules import Rules

SOURCE = SILVER_WATER_OBS


def do_saturation_mg_l(temp_c: Column) -> Column:
    """Oxygen solubility in fresh water at 1 atm (Benson & Krause, as in APHA 4500-O)."""
    tk = temp_c + 273.15
    ln = -139.34411 + 1.575701e5 / tk - 6.642308e7 / tk**2 + 1.243800e10 / tk**3 - 8.621949e11 / tk**4
    return F.exp(ln)


def _point(df: DataFrame) -> DataFrame:
    return df.withColumn("ts_from", F.col("ts")).withColumn("ts_to", F.col("ts"))


def water_flags(obs: DataFrame, rules: Rules) -> DataFrame:
    cfg = rules.water
    v = obs.where(F.col("value").isNotNull() & (F.col("parameter") != "quality_class"))
    limits = lookup({k: float(b) for k, b in cfg["impossible"].items()})
    p = F.col("parameter")
    impossible = _point(v.where((F.col("value") < 0) & (p != "water_temp") | (F.col("value") > limits[p])))
    parts = [as_flags(impossible, "impossible", "ERROR",
                      F.concat(p, F.lit(" = "), F.col("value_text"), F.lit(" "), F.coalesce(F.col("unit"), F.lit("")),
                               F.lit(" is not a possible surface-water value (limit "), fmt(F.coalesce(limits[p], F.lit(0.0)), 0), F.lit(")")),
                      rules.version, SOURCE)]

    (e_lo, e_hi), (w_lo, w_hi) = cfg["ph"]["error"], cfg["ph"]["warning"]
    ph = _point(v.where((p == "ph") & ((F.col("value") < w_lo) | (F.col("value") > w_hi))))
    level = F.when((F.col("value") < e_lo) | (F.col("value") > e_hi), "ERROR").otherwise("WARNING")
    parts.append(as_flags(ph, "ph", level, F.concat(F.lit("pH "), F.col("value_text"), F.lit(f" outside {w_lo}-{w_hi}")),
                          rules.version, SOURCE))

    temp = obs.where(p == "water_temp").select("station_id", "ts", F.col("value").alias("temp_c"))
    do = v.where(p == "do").join(temp, ["station_id", "ts"])
    do = do.withColumn("pct", F.col("value") / do_saturation_mg_l(F.col("temp_c")) * 100)
    over = _point(do.where(F.col("pct") > float(cfg["do_saturation_max_pct"])))
    parts.append(as_flags(over, "do_saturation", "WARNING",
                          F.concat(F.lit("DO "), F.col("value_text"), F.lit(" mg/L is "), fmt(F.col("pct"), 0),
                                   F.lit("% of saturation at "), fmt(F.col("temp_c")), F.lit(" degC")),
                          rules.version, SOURCE))

    decimals = F.length(F.regexp_extract(F.col("value_text"), r"\.(\d+)$", 1))
    tail = _point(v.where(decimals > int(cfg["precision_digits"])))
    parts.append(as_flags(tail, "precision", "WARNING",
                          F.concat(F.col("value_text"), F.lit(": "), decimals, F.lit(" decimals, more than the analyser resolves")),
                          rules.version, SOURCE))
    return reduce(DataFrame.unionByName, parts)
