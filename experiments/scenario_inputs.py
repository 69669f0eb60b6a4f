"""What the scenarios read from the lake, as pandas frames for the pure code in smartmon/scenario/."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from pyspark.sql import functions as F

from smartmon.beijing_time import beijing_day_bounds_utc, utc_to_beijing
from smartmon.catalog.names import (
    SILVER_AIR_HOURLY,
    SILVER_EMISSION_SOURCES,
    SILVER_ENERGY_USE,
    SILVER_METEO_HOURLY,
    SILVER_POWER_USE,
    SILVER_QC_FLAGS,
    SILVER_RIVER_SECTIONS,
    SILVER_SECTION_FLOW,
    SILVER_SOURCE_EMISSIONS,
    SILVER_STATIONS,
)
from smartmon.io import Lake
from smartmon.qc.apply import valid_air
from smartmon.scenario.control import station_runs
from smartmon.scenario.spec import Spec

log = logging.getLogger(__name__)

# every table the scenarios read (the standing-scenarios job declares these as its reads)
READS = (SILVER_AIR_HOURLY, SILVER_EMISSION_SOURCES, SILVER_ENERGY_USE, SILVER_METEO_HOURLY, SILVER_POWER_USE,
         SILVER_QC_FLAGS, SILVER_RIVER_SECTIONS, SILVER_SECTION_FLOW, SILVER_SOURCE_EMISSIONS, SILVER_STATIONS)
COUNTY_SECTORS = {"工业": "industry", "居民": "residential", "商业": "commercial"}
TABLES = (SILVER_EMISSION_SOURCES, SILVER_SOURCE_EMISSIONS, SILVER_POWER_USE, SILVER_ENERGY_USE, SILVER_STATIONS,
          SILVER_AIR_HOURLY, SILVER_METEO_HOURLY, SILVER_RIVER_SECTIONS, SILVER_SECTION_FLOW)


WATER_TABLES = (SILVER_RIVER_SECTIONS, SILVER_SECTION_FLOW, SILVER_SOURCE_EMISSIONS, SILVER_EMISSION_SOURCES)


def input_versions(lake: Lake, kind: str) -> dict[str, int]:
    """The Delta versions of the tables a scenario kind reads: the same versions and the same
    spec give the same results, so a run can be skipped (experiments/scenarios.py)."""
    tables = WATER_TABLES if kind == "water" else (*TABLES, SILVER_QC_FLAGS)
    return {t: lake.version(t) for t in tables if lake.exists(t)}


def utc_range(spec: Spec) -> tuple[datetime, datetime]:
    """The spec's Beijing days as [start, end) in naive UTC."""
    start, end = beijing_day_bounds_utc(spec.period[0], spec.period[1])
    return start.replace(tzinfo=None), end.replace(tzinfo=None)


@dataclass
class CarbonInputs:
    entities: pd.DataFrame  # entity, sector, province_code, city_code, county_code, lat, lon, kwh, coal_t, gas_1e4m3, pm_eq_kg_h
    receptors: pd.DataFrame  # station_id, lat, lon, h3_r7, h3_r9, observed_pm25
    winds: pd.DataFrame  # wind_u, wind_v
    hours: float
    versions: dict[str, int]


def fuel_in_period(energy: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Fuel per source in the period (columns coal_t, gas_1e4m3): a month's figure counts for the
    period's days in that month over the days the figure covers (at most all of it)."""
    if energy.empty:
        return pd.DataFrame()
    first = pd.to_datetime(energy["month"] + "-01")
    last = first + pd.offsets.MonthEnd(0)
    lo = first.clip(lower=pd.Timestamp(spec.period[0]))
    hi = last.clip(upper=pd.Timestamp(spec.period[1]))
    overlap = ((hi - lo).dt.days + 1).clip(lower=0)
    share = (overlap / energy["days_covered"].where(energy["days_covered"] > 0)).clip(upper=1).fillna(0)
    col = energy["fuel"].map({"coal": "coal_t", "natural_gas": "gas_1e4m3"})
    amounts = energy.assign(col=col, amount=energy["amount"] * share).dropna(subset=["col"])
    return amounts.pivot_table(index="source_id", columns="col", values="amount", aggfunc="sum")


def carbon_inputs(lake: Lake, spec: Spec) -> CarbonInputs:
    t0, t1 = utc_range(spec)
    hours = (t1 - t0).total_seconds() / 3600
    src = lake.read(SILVER_EMISSION_SOURCES).select(
        F.col("source_id").alias("entity"), "sector", "province_code", "city_code", "county_code", "lat", "lon").toPandas()
    emis = (lake.read(SILVER_SOURCE_EMISSIONS).where(F.col("ts").between(t0, t1 - timedelta(seconds=1)))
            .where(F.col("pollutant").isin("so2", "nox", "smoke_dust"))
            .groupBy("source_id").pivot("pollutant", ["so2", "nox", "smoke_dust"]).agg(F.sum("amount")).toPandas())
    power = (lake.read(SILVER_POWER_USE).where(F.col("date").between(spec.period[0], spec.period[1]))
             .groupBy("consumer_id", "consumer_kind", "county_code", "sector").agg(F.sum("kwh").alias("kwh")).toPandas())
    energy = lake.read(SILVER_ENERGY_USE).toPandas()
    src = src.merge(emis.rename(columns={"source_id": "entity"}), on="entity", how="left").fillna({"so2": 0.0, "nox": 0.0, "smoke_dust": 0.0})
    from smartmon.scenario.carbon import pm_equivalent

    src["pm_eq_kg_h"] = pm_equivalent(src["so2"].to_numpy(), src["nox"].to_numpy(), src["smoke_dust"].to_numpy()) / hours
    ent_power = power[power["consumer_kind"] == "enterprise"].set_index("consumer_id")["kwh"]
    src["kwh"] = src["entity"].map(ent_power).fillna(0.0)
    fuel = fuel_in_period(energy, spec)
    for col in ("coal_t", "gas_1e4m3"):
        src[col] = src["entity"].map(fuel[col]).fillna(0.0) if col in fuel else 0.0
    cty = power[power["consumer_kind"] == "county-sector"].copy()
    cty = pd.DataFrame({"entity": cty["consumer_id"], "sector": cty["sector"].map(COUNTY_SECTORS).fillna(cty["sector"]),
                        "province_code": cty["county_code"].str[:2] + "0000", "city_code": cty["county_code"].str[:4] + "00",
                        "county_code": cty["county_code"], "lat": float("nan"), "lon": float("nan"), "kwh": cty["kwh"],
                        "coal_t": 0.0, "gas_1e4m3": 0.0, "pm_eq_kg_h": 0.0})
    # ordered, as every frame the draws are applied to: row order must not follow Spark's partitioning
    entities = pd.concat([src.drop(columns=["so2", "nox", "smoke_dust"]), cty], ignore_index=True)
    entities = entities.sort_values(["entity", "sector"], kind="stable").reset_index(drop=True)
    stations = lake.read(SILVER_STATIONS).where(F.col("kind").isin("air", "traffic", "supersite") & F.col("lat").isNotNull())
    air = valid_air(lake.read(SILVER_AIR_HOURLY).where(F.col("ts").between(t0, t1)), lake.read(SILVER_QC_FLAGS))
    obs = air.groupBy("station_id").agg(F.avg("pm25").alias("observed_pm25"))
    receptors = stations.select("station_id", "lat", "lon", "h3_r7", "h3_r9").join(obs, "station_id", "left").orderBy("station_id").toPandas()
    winds = (lake.read(SILVER_METEO_HOURLY).where(F.col("ts").between(t0, t1)).where(F.col("wind_u").isNotNull())
             .orderBy("ts", "station_id").select("wind_u", "wind_v").toPandas())
    versions = input_versions(lake, "carbon")
    log.info("carbon inputs: %d entities (%d sources), %d receptors (%d observed), %d wind hours", len(entities), len(src),
             len(receptors), receptors["observed_pm25"].notna().sum(), len(winds))
    return CarbonInputs(entities, receptors, winds, hours, versions)


@dataclass
class WaterInputs:
    sections: pd.DataFrame  # section_id, river, seq, target_class, province_code, city_code, county_code
    flow: pd.DataFrame  # section_id, date, flow_m3s
    discharge: pd.DataFrame  # source_id, sector, province_code, city_code, county_code, section_id, date, cod, nh3n, tp, wastewater_m3
    versions: dict[str, int]


def water_inputs(lake: Lake, spec: Spec) -> WaterInputs:
    t0, t1 = utc_range(spec)
    sections = lake.read(SILVER_RIVER_SECTIONS).select("section_id", "river", "seq", "target_class", "province_code", "city_code",
                                                          "county_code").orderBy("section_id").toPandas()
    flow = lake.read(SILVER_SECTION_FLOW).where(F.col("date").between(spec.period[0], spec.period[1])) \
        .select("section_id", "date", "flow_m3s").orderBy("section_id", "date").toPandas()
    src = lake.read(SILVER_EMISSION_SOURCES).where(F.col("receiving_section").isNotNull() & (F.col("receiving_section") != "")) \
        .select("source_id", "sector", "province_code", "city_code", "county_code", F.col("receiving_section").alias("section_id"))
    day = F.to_date(utc_to_beijing("ts"))
    emis = (lake.read(SILVER_SOURCE_EMISSIONS).where(F.col("ts").between(t0, t1 - timedelta(seconds=1)))
            .where(F.col("pollutant").isin("cod", "nh3n", "tp", "wastewater_flow"))
            .groupBy("source_id", day.alias("date")).pivot("pollutant", ["cod", "nh3n", "tp", "wastewater_flow"]).agg(F.sum("amount")))
    # ordered: draw k of a Monte Carlo run goes to row k, so the row order must not follow the partitioning
    discharge = src.join(emis, "source_id").orderBy("source_id", "date").toPandas().rename(columns={"wastewater_flow": "wastewater_m3"}).fillna(0.0)
    versions = input_versions(lake, "water")
    return WaterInputs(sections, flow, discharge, versions)


def control_inputs(lake: Lake, spec: Spec) -> pd.DataFrame:
    """Every located air station with a valid PM2.5 hour in the period: its exceedance hours and
    longest run (smartmon.scenario.control.station_runs, computed on the executors: the hours
    themselves are millions at national scale) and its H3 cells, one row per station."""
    t0, t1 = utc_range(spec)
    air = valid_air(lake.read(SILVER_AIR_HOURLY).where(F.col("ts").between(t0, t1)), lake.read(SILVER_QC_FLAGS))
    st = lake.read(SILVER_STATIONS).where(F.col("h3_r7").isNotNull()).select("station_id", "h3_r7", "h3_r9")
    return station_runs(air.select("station_id", "ts", "pm25")).join(st, "station_id").orderBy("station_id").toPandas()
