"""raw -> silver for N synthetic hourly rows: smartmon (bronze adapter + silver.air_hourly on
Delta) beside DuckDB doing the same transform on the same files in the same run.

Input: the county micro-station feed `smartmon simulate` writes (UTF-8 CSV, ISO 8601 start-of-hour
times, CO in ug/m3), for enough county stations x days to reach N rows, with planted faults.
The same transform on both sides: read every line, refuse what does not parse (wrong field count),
times to UTC end of hour, CO / 1000, values to doubles, only registered stations, one row per
station and hour, partitioned by month. smartmon also keeps every line in bronze (Delta) and the
refusals in bronze.quarantine; DuckDB writes Parquet. A third side, plain Spark, is the floor of
any Spark implementation here: the same session settings, Spark's own CSV reader, the same
transform, Parquet out; no bronze copy, no Delta, no lineage, no per-cell refusals. Each side
runs in its own process; peak memory is that process tree's (Spark: Python driver + JVM).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from smartmon.beijing_time import ZONE
from smartmon.catalog.names import SILVER_AIR_HOURLY

DEFAULT_ARGS = (10_000_000,)
DAYS = 14


def make_input(folder: Path, rows: int, seed: int = 2019) -> int:
    """County feed files and the county station list; returns the data rows written."""
    import numpy as np

    from smartmon import config
    from smartmon.simulate import air, network, reference

    root = config.settings().data_root
    rng = np.random.default_rng(seed)
    nat, cty = reference.national_stations(root), reference.counties(root)
    n = max(1, rows // (24 * DAYS))
    stations = network.stations(rng, int(n / 0.35) + 10, cty, nat)
    stations = stations[stations["tier"] == "county"].head(n).reset_index(drop=True)
    sensors = air.Sensors(rng, stations)
    archive = reference.archive_days(root)
    written = 0
    for i in range(DAYS):
        day = reference.source_day(archive, archive[0], i)
        values = sensors.values(rng, reference.day_signal(root, day, nat.ids)[:, stations["anchor_idx"].to_numpy()], i)
        written += air.write_county(folder, day, stations, values, [], rng, 1e-5)
    city = dict(zip(cty.code, cty.city_name, strict=True))
    air.write_station_lists(folder, stations, city)
    return written


def run_smartmon(folder: Path, lake_dir: Path) -> dict:
    os.environ["SMARTMON_LAKE"] = str(lake_dir)
    from datetime import date

    from jobs.bronze import county_air, station_lists
    from jobs.bronze.ingest import ingest_adapter
    from pipelines.definitions import graph
    from smartmon.catalog.names import SILVER_STATIONS
    from smartmon.io import Lake
    from smartmon.jobspec import RunContext
    from smartmon.spark import get_spark

    lake = Lake(get_spark())
    jobs, ctx = graph().jobs, RunContext(lake=lake, run_date=date.today(), run_id="bench")
    ingest_adapter(lake, station_lists, sorted((folder / "station-lists").glob("*.csv")))
    jobs[SILVER_STATIONS].run(ctx)  # the registry conforms the station lists
    t0 = time.perf_counter()
    report = ingest_adapter(lake, county_air, sorted((folder / "county-air").glob("*.csv")))
    t1 = time.perf_counter()
    silver = jobs[SILVER_AIR_HOURLY].run(ctx)
    t2 = time.perf_counter()
    return {"bronze_s": t1 - t0, "silver_s": t2 - t1, "read": report.total("read"), "quarantined": report.total("quarantined"),
            "silver_rows": lake.read(SILVER_AIR_HOURLY).count(), "silver": silver}


def run_duckdb(folder: Path, out: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    t0 = time.perf_counter()
    con.execute(f"""
        CREATE TABLE raw AS SELECT * FROM read_csv('{folder}/county-air/*.csv', all_varchar = true, header = true,
            filename = true, store_rejects = true, ignore_errors = true)""")
    rejects = con.execute("SELECT count(*) FROM reject_errors").fetchone()[0]
    con.execute(f"CREATE TABLE st AS SELECT station_code FROM read_csv('{folder}/station-lists/county.csv', all_varchar = true)")
    con.execute(f"""
        COPY (
          SELECT station_code AS station_id,
                 timezone('UTC', try_cast(time_start AS TIMESTAMPTZ)) + INTERVAL 1 HOUR AS ts,
                 strftime(timezone('{ZONE}', try_cast(time_start AS TIMESTAMPTZ) + INTERVAL 1 HOUR), '%Y-%m') AS month,
                 try_cast(pm25 AS DOUBLE) AS pm25, try_cast(pm10 AS DOUBLE) AS pm10, try_cast(so2 AS DOUBLE) AS so2,
                 try_cast(no2 AS DOUBLE) AS no2, try_cast(co_ugm3 AS DOUBLE) / 1000 AS co, try_cast(o3 AS DOUBLE) AS o3,
                 'co ug/m3' AS source_unit, filename AS source_file
          FROM raw SEMI JOIN st USING (station_code)
          QUALIFY row_number() OVER (PARTITION BY station_code, time_start ORDER BY filename DESC) = 1
        ) TO '{out}' (FORMAT parquet, PARTITION_BY (month), OVERWRITE_OR_IGNORE)""")
    t1 = time.perf_counter()
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet')").fetchone()[0]
    return {"seconds": t1 - t0, "read": con.execute("SELECT count(*) FROM raw").fetchone()[0] + rejects, "rejects": rejects, "rows": rows}


def run_spark_floor(folder: Path, out: Path) -> dict:
    """Plain Spark: CSV to Parquet with the transform and nothing else smartmon does."""
    os.environ["SMARTMON_LAKE"] = str(out.parent / "spark-floor-lake")  # session settings only; nothing is written there
    from pyspark.sql import functions as F

    from smartmon.beijing_time import month_local
    from smartmon.spark import get_spark

    spark = get_spark()
    cols = ["station_code", "time_start", "pm25", "pm10", "so2", "no2", "co_ugm3", "o3"]
    schema = ", ".join(f"{c} string" for c in cols) + ", _bad string"
    t0 = time.perf_counter()
    raw = (spark.read.schema(schema).option("header", True).option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_bad")
           .csv(f"{folder}/county-air/*.csv"))
    stations = spark.read.option("header", True).csv(f"{folder}/station-lists/county.csv").select("station_code")
    start = F.try_to_timestamp(F.col("time_start"), F.lit("yyyy-MM-dd'T'HH:mm:ssXXX"))
    rows = (raw.where(F.col("_bad").isNull()).join(F.broadcast(stations), "station_code", "left_semi")
            .select(F.col("station_code").alias("station_id"), (start + F.expr("INTERVAL 1 HOUR")).alias("ts"),
                    *[F.col(c).try_cast("double").alias(c) for c in ("pm25", "pm10", "so2", "no2", "o3")],
                    (F.col("co_ugm3").try_cast("double") / 1000).alias("co"))
            # values only: a string in the aggregation (the file name DuckDB keeps) would make it sort
            .groupBy("station_id", "ts").agg(*[F.max(c).alias(c) for c in ("pm25", "pm10", "so2", "no2", "co", "o3")])
            .withColumn("month", month_local("ts")))
    rows.write.mode("overwrite").partitionBy("month").parquet(str(out))
    t1 = time.perf_counter()
    raw = raw.cache()  # the counts below are checks, outside the timing (_bad needs the cache)
    return {"seconds": t1 - t0, "read": raw.count(), "rejects": raw.where(F.col("_bad").isNotNull()).count(),
            "rows": spark.read.parquet(str(out)).count()}


def main(rows: int) -> None:
    from bench.common import record, run_measured

    work = Path(tempfile.mkdtemp(prefix="smartmon-bench-ingest-"))
    try:
        t0 = time.perf_counter()
        written = make_input(work / "feed", rows)
        print(f"input: {written:,} rows in {time.perf_counter() - t0:.0f} s", flush=True)
        me = [sys.executable, "-m", "bench.ingest_vs_duckdb", "--side"]
        d_wall, d_mem, d_out = run_measured([*me, "duckdb", str(work)])
        f_wall, f_mem, f_out = run_measured([*me, "spark-floor", str(work)])
        s_wall, s_mem, s_out = run_measured([*me, "smartmon", str(work)])
        d, f, s = (json.loads(out.splitlines()[-1]) for out in (d_out, f_out, s_out))
        s_time = s["bronze_s"] + s["silver_s"]
        print(f"duckdb {d['seconds']:.1f} s ({d_mem:.0f} MiB), plain Spark {f['seconds']:.1f} s ({f_mem:.0f} MiB), smartmon "
              f"{s_time:.1f} s = bronze {s['bronze_s']:.1f} + silver {s['silver_s']:.1f} ({s_mem:.0f} MiB): ratio {s_time / d['seconds']:.2f}")
        record(f"raw -> silver, {written / 1e6:.1f} M hourly rows (county feed) vs DuckDB", [
            {"case": "wall time, read to silver", "smartmon": f"{s_time:.1f} s (bronze {s['bronze_s']:.1f} + silver {s['silver_s']:.1f})",
             "reference": f"DuckDB {d['seconds']:.1f} s", "ratio": f"{s_time / d['seconds']:.2f}",
             "notes": "one run each; target <= 3; smartmon also writes bronze Delta + quarantine, DuckDB writes Parquet only"},
            {"case": "plain Spark, the same transform (the floor of any Spark side)", "smartmon": f"{f['seconds']:.1f} s, {f_mem:,.0f} MiB",
             "reference": f"DuckDB {d['seconds']:.1f} s", "ratio": f"{f['seconds'] / d['seconds']:.2f}",
             "notes": f"Spark's CSV reader to Parquet, no bronze/Delta/lineage/refusals, no file name kept; rows out {f['rows']:,}, refused {f['rejects']:,}; "
                      f"smartmon / plain Spark = {s_time / f['seconds']:.2f}"},
            {"case": "peak memory (process tree, PSS)", "smartmon": f"{s_mem:,.0f} MiB", "reference": f"{d_mem:,.0f} MiB",
             "ratio": f"{s_mem / d_mem:.2f}", "notes": f"Spark: Python driver + JVM (driver memory {os.environ.get('SMARTMON_DRIVER_MEMORY', '6g')})"},
            {"case": "rows", "smartmon": f"read {s['read']:,}, refused {s['quarantined']:,}, silver {s['silver_rows']:,}",
             "reference": f"read {d['read']:,}, refused {d['rejects']:,}, out {d['rows']:,}", "ratio": "",
             "notes": "both must agree"},
            {"case": "process wall incl. start-up", "smartmon": f"{s_wall:.0f} s", "reference": f"{d_wall:.0f} s",
             "ratio": f"{s_wall / d_wall:.2f}", "notes": f"Spark session start and table creation included; plain Spark {f_wall:.0f} s"},
        ])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ARGS[0])
    parser.add_argument("--side", choices=["smartmon", "duckdb", "spark-floor"], help=argparse.SUPPRESS)
    parser.add_argument("work", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "duckdb":
        print(json.dumps(run_duckdb(Path(args.work) / "feed", Path(args.work) / "duckdb-out")))
    elif args.side == "spark-floor":
        print(json.dumps(run_spark_floor(Path(args.work) / "feed", Path(args.work) / "spark-out")))
    elif args.side == "smartmon":
        print(json.dumps(run_smartmon(Path(args.work) / "feed", Path(args.work) / "lake"), default=str))
    else:
        main(args.rows)
