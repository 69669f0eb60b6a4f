"""Wide rows: the shape every air feed's bronze rows take on their way to silver.air_hourly.

A flat feed (one line per station and hour) becomes wide rows directly (`wide`), values in the
standard units; the CNEMC archive (one line per pollutant type, a column per station) becomes
long cells, each a sparse wide row with only its column set (`sparse_wide`). Each air adapter's
`air_rows` (jobs.bronze.adapter.AirFeed) returns one of these; silver.air_hourly aggregates them
by station and hour. Time conventions are in each adapter and in jobs/silver/air_tiers.py.
"""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.silver.air_tiers import Columns
from jobs.silver.conform import LINEAGE_COLS, beijing_to_utc, invalid_number

CNEMC_TYPES = {
    "PM2.5": "pm25", "PM2.5_24h": "pm25_24h", "PM10": "pm10", "PM10_24h": "pm10_24h",
    "SO2": "so2", "SO2_24h": "so2_24h", "NO2": "no2", "NO2_24h": "no2_24h",
    "O3": "o3", "O3_24h": "o3_24h", "O3_8h": "o3_8h", "O3_8h_24h": "o3_8h_24h",
    "CO": "co", "CO_24h": "co_24h", "AQI": "aqi_published",
}
VALUE_COLS = list(dict.fromkeys(CNEMC_TYPES.values()))
POLLUTANTS = ["pm25", "pm10", "so2", "no2", "co", "o3"]


def cnemc_cells(bronze: DataFrame) -> DataFrame:
    local = F.to_timestamp(F.concat(F.col("date"), F.lpad(F.col("hour"), 2, "0")), "yyyyMMddHH")
    mapping = F.create_map(*[x for k, v in CNEMC_TYPES.items() for x in (F.lit(k), F.lit(v))])
    return bronze.select(
        F.explode("cells").alias("station_id", "text"),
        beijing_to_utc(local).alias("ts"),
        mapping[F.col("type")].alias("column"),
        F.lit(1.0).alias("scale"),
        F.lit(None).cast("string").alias("source_unit"),
        *LINEAGE_COLS,
    ).where(F.col("column").isNotNull())


def uci_base(bronze: DataFrame, aliases: DataFrame) -> tuple[DataFrame, Columns]:
    site = aliases.where("source = 'uci-beijing'").select(F.col("source_station").alias("station"), "station_id")
    local = F.make_timestamp(F.col("year").cast("int"), F.col("month").cast("int"), F.col("day").cast("int"),
                             F.col("hour").cast("int"), F.lit(0), F.lit(0))
    base = bronze.join(F.broadcast(site), "station", "left").select(
        F.coalesce(F.col("station_id"), F.concat(F.lit("uci:"), F.col("station"))).alias("station_id"),
        beijing_to_utc(local).alias("ts"),
        *POLLUTANTS, *LINEAGE_COLS,
    )
    return base, {p: (p, 0.001, "co ug/m3") if p == "co" else (p, 1.0, None) for p in POLLUTANTS}


def kdd_base(bronze: DataFrame) -> tuple[DataFrame, Columns]:
    ts = F.coalesce(F.to_timestamp("time", "yyyy-MM-dd HH:mm:ss"), F.to_timestamp("time", "yyyy/M/d H:mm"))
    base = bronze.select("station_id", ts.alias("ts"), *POLLUTANTS, *LINEAGE_COLS)
    return base, {p: (p, 1.0, None) for p in POLLUTANTS}


def _number(text: Column, scale: Column) -> Column:
    return F.trim(text).try_cast("double") * scale


def wide(base: DataFrame, columns: Columns, missing: tuple[str, ...] = ("",)) -> DataFrame:
    """A flat feed's rows in the standard units, one column per VALUE_COLS entry (null where the
    feed has none); source_unit is the feed's non-standard unit (the greatest, as for cells);
    bad lists the cells that are not a number (null when none), from the same parse as the
    values, so the refusals need no melt of the suspect rows to cells."""
    units = [unit for _, _, unit in columns.values() if unit]
    values = {target: _number(F.col(src), F.lit(scale)) for target, (src, scale, _) in columns.items()}
    invalid = {target: invalid_number(F.col(src), missing) for target, (src, _, _) in columns.items()}
    cells = [F.when(invalid[t], F.struct(F.lit(t).alias("column"), F.col(src).alias("text"))) for t, (src, _, _) in columns.items()]
    return base.select(
        "station_id", "ts",
        *[values.get(c, F.lit(None).cast("double")).alias(c) for c in VALUE_COLS],
        F.lit(max(units) if units else None).cast("string").alias("source_unit"),
        F.when(reduce(lambda x, y: x | y, invalid.values()), F.array_compact(F.array(*cells))).alias("bad"),
        *LINEAGE_COLS,
    )


def sparse_wide(cells: DataFrame, missing: tuple[str, ...] = ("",)) -> DataFrame:
    """Long cells as wide rows with only the cell's own column set, so they aggregate with wide
    rows; bad as in wide()."""
    value = _number(F.col("text"), F.col("scale"))
    bad = F.when(invalid_number(F.col("text"), missing), F.array(F.struct("column", "text")))
    return cells.select("station_id", "ts", *[F.when(F.col("column") == c, value).alias(c) for c in VALUE_COLS],
                        "source_unit", bad.alias("bad"), *LINEAGE_COLS)
