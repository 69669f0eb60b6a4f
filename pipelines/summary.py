"""What a run built and where to look: printed at the end of `smartmon nightly`."""

from __future__ import annotations

from collections.abc import Iterable

from smartmon import catalog
from smartmon.catalog.features import NATIONAL_TARGETS
from smartmon.catalog.names import GOLD_FORECAST_CITY_DAILY, GOLD_FORECAST_SKILL, GOLD_FORECASTS, SILVER_STATIONS
from smartmon.io import Lake

# `smartmon status` exit codes, for schedulers that act on them (cron mail, Airflow, a k8s Job).
STATUS_OK, STATUS_FAILED, STATUS_NO_RUN = 0, 1, 3


def run_verdict(statuses: Iterable[str]) -> int:
    """Exit code of one run from its task attempts' statuses: a task that failed for good is
    recorded 'failed' (attempts that were retried say 'retried'), so one 'failed' fails the run."""
    seen = list(statuses)
    if not seen:
        return STATUS_NO_RUN
    return STATUS_FAILED if "failed" in seen else STATUS_OK


def lake_summary(lake: Lake) -> list[tuple[str, int, int, str]]:
    """(table, rows, version, path) for every declared table that exists."""
    out = []
    for spec in catalog.all_tables():
        if not lake.exists(spec.fqn):
            continue
        out.append((spec.fqn, lake.read(spec.fqn).count(), lake.version(spec.fqn), lake.path(spec.fqn)))
    return out


def forecast_lines(lake: Lake) -> list[str]:
    """The latest nightly issue in gold.forecasts: when, how many stations, and per target the
    model version, what it learned up to, and the network's mean for the next Beijing day."""
    from pyspark.sql import functions as F

    if not lake.exists(GOLD_FORECASTS):
        return ["forecasts: none yet"]
    fc = lake.read(GOLD_FORECASTS).where(F.col("kind") == "nightly")
    latest = fc.agg(F.max("issued_at")).first()[0]
    if latest is None:
        return ["forecasts: no nightly issue yet (no champion: see docs/forecasting.md)"]
    issue = fc.where((F.col("issued_at") == F.lit(latest)) & F.col("target").isin(*NATIONAL_TARGETS))
    per = (issue.groupBy("target", "model_version").agg(
        F.countDistinct("station_id").alias("stations"), F.max("horizon_h").alias("hours"), F.max("trained_until").alias("until"),
        F.avg(F.when(F.col("horizon_h") <= 24, F.col("value"))).alias("next_day"))  # the issue ends a Beijing day
        .orderBy("target").collect())
    lines = [f"forecasts: issue {latest:%Y-%m-%d %H:%M} UTC in gold.forecasts"]
    for r in per:
        until = f"{r.until:%Y-%m-%d %H:%M}" if r.until else "?"
        lines.append(f"  {r.target:5s} v{r.model_version:<4s} {r.stations:>7,d} stations x {r.hours} h, trained until {until}; "
                     f"next Beijing day's network mean {r.next_day:.0f} ug/m3")
    if lake.exists(GOLD_FORECAST_CITY_DAILY):
        cities = (lake.read(GOLD_FORECAST_CITY_DAILY).where((F.col("issued_at") == F.lit(latest)) & (F.col("kind") == "nightly")
                                                           & (F.col("lead_days") == 1))
                  .groupBy("level", "category").count().orderBy("level").collect())
        if cities:
            levels = ", ".join(f"{r.category} {r['count']}" for r in cities if r.level is not None)
            lines.append(f"  city AQI of the next Beijing day ({sum(r['count'] for r in cities)} cities, "
                         f"gold.forecast_city_daily): {levels}")
    return lines + skill_lines(lake, latest)


def skill_lines(lake: Lake, before: object) -> list[str]:
    """The SMAPE of the nightly issues of the week before `before`, as far as they have come
    true (gold.forecast_skill, hours 1-48), against persistence on the same pairs."""
    from datetime import timedelta

    from pyspark.sql import functions as F

    if not lake.exists(GOLD_FORECAST_SKILL):
        return []
    from jobs.gold.forecast_skill import weighted

    rows = weighted(lake.read(GOLD_FORECAST_SKILL)
                    .where((F.col("grain") == "station_hour") & (F.col("kind") == "nightly") & (F.col("horizon_h") <= 48)
                           & (F.col("issued_at") < F.lit(before)) & (F.col("issued_at") >= F.lit(before - timedelta(days=7)))),
                    "target").orderBy("target").collect()
    if not rows:
        return []
    return ["skill of the week's issues so far, SMAPE 1-48 h (gold.forecast_skill): " + "; ".join(
        f"{r.target} {r.smape:.3f} vs persistence {r.persistence_smape:.3f}" for r in rows)]


def print_lake_summary(lake: Lake) -> None:
    rows = lake_summary(lake)
    print(f"\nlake: {lake.cfg.lake}  (profile {lake.cfg.profile}, data {lake.cfg.data_root})")
    for fqn, n, version, _path in rows:
        print(f"  {fqn:28s} {n:>12,d} rows  v{version}")
    print(f"\ncatalog: smartmon tables (TABLES.md); read e.g. polars.read_delta('{lake.path(SILVER_STATIONS)}')")
    print('by name: smartmon sql "SELECT level, count(*) FROM gold.aqi_daily GROUP BY level ORDER BY level"'
          '  (spark.table("gold.aqi_daily") in a smartmon Spark session)')
    print("\n" + "\n".join(forecast_lines(lake)))
    print(f"MLflow: {lake.cfg.mlflow_tracking_uri}   runs log: smartmon status")
