"""Reading smartmon's tables without Spark: delta-rs, Polars, DuckDB and pandas.

    python examples/read_lake.py [LAKE]        # default ./lake (what `make demo` builds)

The readers a downstream team already uses, on the gold daily AQI and the station registry: no
JVM, each answer in well under a second. Polars and DuckDB come with `pip install
'smartmon[readers]'`. The last line is one JSON object with what each reader found (the suite runs
this script on its lake and checks the four agree with Spark: tests/integration/test_gold_products.py).
"""

from __future__ import annotations

import json
import os
import sys


def main(lake: str) -> dict:
    import duckdb
    import polars as pl
    from deltalake import DeltaTable

    daily_path = f"{lake}/gold/aqi_daily"

    # delta-rs: the table's version, its rows, and the table as it was at its first version
    daily = DeltaTable(daily_path)
    rows = daily.to_pyarrow_dataset().count_rows()
    first_version_rows = DeltaTable(daily_path, version=0).to_pyarrow_dataset().count_rows()

    # Polars: a lazy scan reads only the partition (month) and the columns the query needs
    month = pl.scan_delta(daily_path).select(pl.col("month").max()).collect().item()
    worst_polars = (pl.scan_delta(daily_path)
                    .filter((pl.col("month") == month) & pl.col("aqi").is_not_null())
                    .group_by("station_id").agg(pl.col("aqi").mean().alias("mean_aqi"))
                    .sort(["mean_aqi", "station_id"], descending=[True, False]).head(5).collect())

    # DuckDB: SQL over the delta-rs dataset (no DuckDB extension needed, so it works offline)
    aqi = daily.to_pyarrow_dataset()  # noqa: F841 - DuckDB finds it by its variable name
    worst_duckdb = duckdb.sql(f"""
        SELECT station_id, avg(aqi) AS mean_aqi FROM aqi
        WHERE month = '{month}' AND aqi IS NOT NULL
        GROUP BY station_id ORDER BY mean_aqi DESC, station_id LIMIT 5""").fetchall()

    # pandas: the station registry (only the columns asked for are read), joined to the worst five
    stations = DeltaTable(f"{lake}/silver/stations").to_pandas(columns=["station_id", "name", "city_name"])
    named = stations.merge(worst_polars.to_pandas(), on="station_id").sort_values(["mean_aqi", "station_id"],
                                                                                   ascending=[False, True])
    for r in named.itertuples():
        name, city = (v if isinstance(v, str) else "" for v in (r.name, r.city_name))
        print(f"{r.station_id:8s} {name:20s} {city:10s} mean AQI {r.mean_aqi:.0f} ({month})")
    return {
        "version": daily.version(), "rows": rows, "first_version_rows": first_version_rows, "month": month,
        "worst_polars": [[s, round(v, 6)] for s, v in worst_polars.iter_rows()],
        "worst_duckdb": [[s, round(v, 6)] for s, v in worst_duckdb],
        "named": named["station_id"].tolist(),
    }


if __name__ == "__main__":
    result = main(sys.argv[1] if len(sys.argv) > 1 else "lake")
    print(json.dumps(result, ensure_ascii=False), flush=True)
    # delta-rs loaded beside Polars or DuckDB can abort at interpreter exit after all work is
    # done (docs/catalog.md): end without the teardown
    os._exit(0)
