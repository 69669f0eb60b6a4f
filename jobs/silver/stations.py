"""silver.stations: the national station registry, from the real station lists.

Sources: the CNEMC national list (1,641 rows), the 35 Beijing municipal stations of KDD Cup 2018
and the 12 UCI Beijing sites (national-control sites without coordinates, matched by name).

Rules (documented in the README):
- A code listed twice with positions within 1 km is one station: the later row of the list
  names it, the other names go to former_names. Positions further apart send every row of that
  code to bronze.quarantine.
- A station without usable coordinates ('' or '-') stays in the registry (its observations
  must still land) with null lat/lon/H3 and admin codes from its city name only.
- A KDD station is the same site as a national station when the national name's pinyin
  contains the KDD name and the two positions are within 10 km (the two networks publish one
  site 1.7 to 7.4 km apart): same_site_as links them.
- A UCI site is the Beijing national station whose name's pinyin contains the UCI name
  (exactly one must match); the alias goes to silver.station_aliases.
- Admin codes: the county whose boundary holds the station (WGS84 position moved to the
  boundaries' GCJ-02), checked against the list's city name; nearest county seat only for a
  point outside every boundary (smartmon.geo.admin; admin_method says which rule placed it).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pandas as pd
from pypinyin import lazy_pinyin
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from smartmon.catalog.names import (
    BRONZE_INGEST_BATCHES,
    BRONZE_QUARANTINE,
    SILVER_CONFORMED_BATCHES,
    SILVER_STATION_ALIASES,
    SILVER_STATIONS,
)
from smartmon.errors import InputError
from smartmon.geo.admin import (
    AdminReference,
    assign_admin_codes,
    normalize_place,
    read_admin_reference,
)
from smartmon.geo.distance import distance_km_column
from smartmon.geo.h3cells import with_h3
from smartmon.io import Lake
from smartmon.jobspec import WHOLE_TABLE, Job, RunContext
from smartmon.lineage import batch_id_for, now_utc, quarantine, sha256_file

log = logging.getLogger(__name__)

CNEMC_LIST = Path("china_national_aq_hourly/StationList-2020.01.01.csv")
KDD_LIST = Path("kddcup2018_beijing/Beijing_AirQuality_Stations_en.csv")
KDD_MEO_LIST = Path("kddcup2018_beijing/beijing_meo_stations_geo.csv")
KDD_GRID_LIST = Path("kddcup2018_beijing/Beijing_grid_weather_station.csv")
UCI_DIR = Path("beijing_multisite")
SAME_SITE_KM = 1.0
# Bump when a rule above changes, so an unchanged set of lists is rebuilt under the new rules.
RULES_VERSION = "3"  # 3: counties from boundaries (smartmon.geo.admin)
SAME_SITE_NAME_KM = 10.0


# ---------------------------------------------------------------------------------------- readers
def _float_or_none(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def read_cnemc_list(path: Path) -> pd.DataFrame:
    """The CNEMC list as published: 监测点编码,监测点名称,城市,经度,纬度; keeps line and raw text."""
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header[:5] != ["监测点编码", "监测点名称", "城市", "经度", "纬度"]:
            raise InputError(f"unexpected header {header}", file=str(path), line=1)
        for fields in reader:
            line = reader.line_num
            raw = ",".join(fields)
            if len(fields) != 5:
                rows.append(dict(code=None, name=None, city=None, lon=None, lat=None, line=line, raw=raw,
                                 error=f"expected 5 fields, got {len(fields)}"))
                continue
            code, name, city, lon, lat = (f.strip() for f in fields)
            rows.append(dict(code=code, name=name, city=city, lon=_float_or_none(lon), lat=_float_or_none(lat),
                             line=line, raw=raw, error=None if code else "empty station code"))
    return pd.DataFrame(rows)


def read_kdd_list(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str)
    expected = ["station_id", "longitude", "latitude", "station_type"]
    if list(df.columns) != expected:
        raise InputError(f"expected columns {expected}, got {list(df.columns)}", file=str(path), line=1)
    df["line"] = range(2, len(df) + 2)
    df["raw"] = df[expected].astype(str).agg(",".join, axis=1)
    df["lon"] = pd.to_numeric(df.pop("longitude"), errors="coerce")
    df["lat"] = pd.to_numeric(df.pop("latitude"), errors="coerce")
    return df


def read_kdd_meteo(meo: Path, grid: Path) -> pd.DataFrame:
    """The 18 observed-meteorology stations and the 651 grid points (grid file: no header,
    latitude before longitude)."""
    m = pd.read_csv(meo, dtype=str)
    if not {"station_id", "latitude", "longitude"} <= set(m.columns):
        raise InputError(f"expected station_id, latitude, longitude columns, got {list(m.columns)}", file=str(meo), line=1)
    m = pd.DataFrame({"station_id": m["station_id"], "lat": m["latitude"], "lon": m["longitude"],
                      "network": "kdd2018-meo", "source_file": str(meo), "line": range(2, len(m) + 2)})
    g = pd.read_csv(grid, header=None, names=["station_id", "lat", "lon"], dtype=str)
    g = g.assign(network="kdd2018-grid", source_file=str(grid), line=range(1, len(g) + 1))
    out = pd.concat([m, g], ignore_index=True)
    out["lat"] = pd.to_numeric(out["lat"], errors="coerce")
    out["lon"] = pd.to_numeric(out["lon"], errors="coerce")
    return out


def read_uci_sites(folder: Path) -> pd.DataFrame:
    """Site names from the 'station' column of each UCI file (first data row)."""
    rows = []
    for path in sorted(folder.glob("PRSA_Data_*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            first = next(reader, None)
        if first is None or not first.get("station"):
            raise InputError("no station column or no data row", file=str(path), line=2)
        rows.append(dict(site=first["station"], file=str(path)))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------ transforms
def resolve_duplicate_codes(cnemc: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(one row per code with former_names, rows to quarantine with reason)."""
    ok = cnemc.where(F.col("error").isNull())
    by_code = Window.partitionBy("code")
    # Spread of a code's positions: the diagonal of their bounding box.
    spread = ok.withColumn("n", F.count("*").over(by_code)).withColumn(
        "max_km",
        distance_km_column(F.min("lat").over(by_code), F.min("lon").over(by_code),
                           F.max("lat").over(by_code), F.max("lon").over(by_code)),
    )
    conflicting = spread.where((F.col("n") > 1) & (F.coalesce(F.col("max_km"), F.lit(0.0)) > SAME_SITE_KM))
    clean = spread.join(conflicting.select("code").distinct(), "code", "left_anti")
    latest = Window.partitionBy("code").orderBy(F.col("line").desc())
    names = clean.groupBy("code").agg(F.collect_list(F.struct("line", "name")).alias("all_names"))
    kept = (
        clean.withColumn("rk", F.row_number().over(latest))
        .where("rk = 1")
        .join(names, "code")
        .withColumn(
            "former_names",
            F.expr("transform(filter(array_sort(all_names), x -> x.name <> name), x -> x.name)"),
        )
        .drop("all_names", "rk", "n", "max_km")
    )
    bad = cnemc.where(F.col("error").isNotNull()).select("line", "raw", F.col("error").alias("reason")).unionByName(
        conflicting.select("line", "raw", F.lit("duplicate station code with positions more than 1 km apart").alias("reason"))
    )
    return kept, bad


def national_stations(kept: DataFrame) -> DataFrame:
    return kept.select(
        F.col("code").alias("station_id"),
        "name",
        F.when(F.size("former_names") > 0, F.col("former_names")).alias("former_names"),
        F.lit("national").alias("tier"),
        F.lit("air").alias("kind"),
        F.lit("cnemc").alias("network"),
        F.col("city").alias("city_name"),
        "lat",
        "lon",
        F.lit(None).cast("string").alias("station_class"),
        F.col("line").alias("source_line"),
    )


def municipal_stations(kdd: DataFrame) -> DataFrame:
    """The Beijing municipal network as KDD Cup 2018 published it; near-traffic sites are kind traffic."""
    return kdd.select(
        "station_id",
        F.regexp_replace("station_id", "_aq$", "").alias("name"),
        F.lit(None).cast("array<string>").alias("former_names"),
        F.lit("municipal").alias("tier"),
        F.when(F.col("station_type") == "Stations Near Traffic", "traffic").otherwise("air").alias("kind"),
        F.lit("beijing-municipal").alias("network"),
        F.lit("北京").alias("city_name"),
        "lat",
        "lon",
        F.col("station_type").alias("station_class"),
        F.col("line").alias("source_line"),
    )


def meteo_stations(meo: DataFrame) -> DataFrame:
    """Meteorology stations and grid points: kind meteorology, no monitoring tier."""
    return meo.select(
        "station_id",
        F.col("station_id").alias("name"),
        F.lit(None).cast("array<string>").alias("former_names"),
        F.lit(None).cast("string").alias("tier"),
        F.lit("meteorology").alias("kind"),
        "network",
        # The observed stations are Beijing's; the grid is a lattice over the region that no
        # list places in a city, so its points take their codes from the boundaries alone.
        F.when(F.col("network") == "kdd2018-meo", F.lit("北京")).alias("city_name"),
        "lat",
        "lon",
        F.lit(None).cast("string").alias("station_class"),
        F.col("line").alias("source_line"),
        "source_file",
        F.concat(F.lit("station-registry:"), F.col("network")).alias("source"),
    )


def link_same_sites(stations: DataFrame, national_pinyin: DataFrame) -> DataFrame:
    """same_site_as: the national station whose name's pinyin contains a non-national station's
    name and lies within SAME_SITE_NAME_KM (KDD and CNEMC positions of one site differ 1.7 to 7.4 km,
    so distance alone cannot decide)."""
    nat = stations.where("tier = 'national' AND lat IS NOT NULL").join(national_pinyin, "station_id").select(
        F.col("station_id").alias("nat_id"), F.col("lat").alias("nlat"), F.col("lon").alias("nlon"), "pinyin"
    )
    other = stations.where("tier <> 'national' AND lat IS NOT NULL").select("station_id", "name", "lat", "lon")
    w = Window.partitionBy("station_id").orderBy("d")
    near = (
        other.join(F.broadcast(nat), F.instr(F.col("pinyin"), F.lower(F.col("name"))) > 0)
        .withColumn("d", distance_km_column(F.col("lat"), F.col("lon"), F.col("nlat"), F.col("nlon")))
        .where(F.col("d") <= SAME_SITE_NAME_KM)
        .withColumn("rk", F.row_number().over(w))
        .where("rk = 1")
        .select("station_id", F.col("nat_id").alias("same_site_as"))
    )
    return stations.join(near, "station_id", "left")


def pinyin_key(name: str) -> str:
    return "".join(lazy_pinyin(name)).lower()


def match_uci_sites(uci: pd.DataFrame, national_beijing: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(aliases, unmatched). A UCI site matches the Beijing national station whose name's
    pinyin contains the UCI name; exactly one must contain it."""
    keys = [(row.station_id, pinyin_key(row.name)) for row in national_beijing.itertuples()]
    aliases, unmatched = [], []
    for row in uci.itertuples():
        needle = row.site.lower().replace(" ", "")
        hits = [sid for sid, key in keys if needle in key]
        if len(hits) == 1:
            aliases.append(dict(source="uci-beijing", source_station=row.site, station_id=hits[0],
                                method="pinyin of the national name contains the UCI name (Beijing list)",
                                distance_km=None))
        else:
            unmatched.append(dict(site=row.site, file=row.file, reason=f"UCI site name matches {len(hits)} Beijing national stations"))
    return pd.DataFrame(aliases), pd.DataFrame(unmatched)


# ------------------------------------------------------------------------------------------ runner
def run(lake: Lake, ref: AdminReference | None = None, *, force: bool = False) -> dict[str, int]:
    """Build silver.stations and silver.station_aliases; quarantine what cannot be placed.

    Skipped when the registry was already built from the same list files under the same
    RULES_VERSION (the batch id hashes both), unless force."""
    spark: SparkSession = lake.spark
    root = lake.cfg.data_root
    files = {"cnemc": root / CNEMC_LIST, "kdd": root / KDD_LIST, "meo": root / KDD_MEO_LIST, "grid": root / KDD_GRID_LIST}
    for path in files.values():
        if not path.exists():
            raise InputError("station list not found (is SMARTMON_DATA right?)", file=str(path))
    uci_files = sorted((root / UCI_DIR).glob("PRSA_Data_*.csv"))
    batch = batch_id_for("station-registry", [RULES_VERSION] + [sha256_file(p) for p in [*files.values(), *uci_files]])
    if not force and lake.read(SILVER_STATIONS).where(F.col("batch_id") == batch).limit(1).count():
        log.info("silver.stations: already built from these lists (%s); skipped", batch)
        return {"skipped": 1}
    ingested_at = now_utc()
    ref = ref or read_admin_reference(spark, root)

    cnemc = spark.createDataFrame(read_cnemc_list(files["cnemc"]),
                                  "code string, name string, city string, lon double, lat double, line bigint, raw string, error string")
    kept, bad = resolve_duplicate_codes(cnemc)
    kdd = spark.createDataFrame(read_kdd_list(files["kdd"])[["station_id", "station_type", "lon", "lat", "line"]],
                                "station_id string, station_type string, lon double, lat double, line bigint")
    nat = national_stations(kept).withColumn("source_file", F.lit(str(files["cnemc"]))).withColumn("source", F.lit("station-registry:cnemc"))
    mun = municipal_stations(kdd).withColumn("source_file", F.lit(str(files["kdd"]))).withColumn("source", F.lit("station-registry:kdd2018"))
    meo = spark.createDataFrame(read_kdd_meteo(root / KDD_MEO_LIST, root / KDD_GRID_LIST),
                                "station_id string, lat double, lon double, network string, source_file string, line bigint")
    registry = nat.unionByName(mun).unionByName(meteo_stations(meo))
    placed = assign_admin_codes(registry, ref)
    pinyin = spark.createDataFrame(
        [(r.code, pinyin_key(r.name)) for r in kept.select("code", "name").collect()], "station_id string, pinyin string"
    )
    stations = with_h3(link_same_sites(placed, pinyin)).withColumn("batch_id", F.lit(batch)).withColumn("ingested_at", F.lit(ingested_at))
    stations = stations.cache()
    result = lake.merge(stations, SILVER_STATIONS)

    # UCI sites are national stations under another name.
    national_bj = stations.where("tier = 'national' AND city_name = '北京'").select("station_id", "name").toPandas()
    aliases, unmatched = match_uci_sites(read_uci_sites(root / UCI_DIR), national_bj)
    kdd_alias = stations.where("network = 'beijing-municipal'").select(
        F.lit("kdd2018").alias("source"), F.col("station_id").alias("source_station"), "station_id",
        F.lit("the source's own id").alias("method"), F.lit(None).cast("double").alias("distance_km"),
    )
    alias_df = kdd_alias
    if len(aliases):
        alias_df = alias_df.unionByName(spark.createDataFrame(aliases, "source string, source_station string, station_id string, method string, distance_km double"))
    lake.merge(alias_df, SILVER_STATION_ALIASES)

    # Nothing is dropped silently: refused list rows and unmatched UCI sites go to quarantine.
    refused = bad.select(
        F.lit("station-registry:cnemc").alias("source"), F.lit(str(files["cnemc"])).alias("source_file"),
        F.col("line").alias("source_line"), F.col("raw").alias("raw_payload"), "reason",
    )
    if len(unmatched):
        refused = refused.unionByName(spark.createDataFrame(unmatched).select(
            F.lit("station-registry:uci").alias("source"), F.col("file").alias("source_file"),
            F.lit(None).cast("bigint").alias("source_line"), F.col("site").alias("raw_payload"), "reason"))
    refused = refused.withColumn("batch_id", F.lit(batch)).withColumn("ingested_at", F.lit(ingested_at))
    q = quarantine(lake, refused, stage=SILVER_STATIONS)
    counts = stations.groupBy("kind", "tier").count().collect()
    stations.unpersist()
    summary: dict[str, int] = {}
    for r in counts:
        key = f"stations_{r['tier'] or r['kind']}"
        summary[key] = summary.get(key, 0) + r["count"]
    summary.update(stations_written=result.rows_written, aliases_uci=len(aliases), quarantined=q.rows_inserted)
    log.info("silver.stations: %s", summary)
    return summary


def register_discovered(lake: Lake, found: list[dict], ref: AdminReference | None = None) -> None:
    """Add stations a source introduces (e.g. a water export's section) to silver.stations.

    Each dict gives station_id, name, tier, kind, network, city_name, county_name and lineage;
    admin codes come from the names (the city, then the county within it)."""
    if not found:
        return
    spark = lake.spark
    ref = ref or read_admin_reference(spark, lake.cfg.data_root)
    rows = spark.createDataFrame(
        pd.DataFrame(found),
        "station_id string, name string, tier string, kind string, network string, city_name string, "
        "county_name string, source string, source_file string, source_line bigint, batch_id string, ingested_at timestamp",
    )
    base = rows.withColumn("lat", F.lit(None).cast("double")).withColumn("lon", F.lit(None).cast("double"))
    placed = assign_admin_codes(base.drop("county_name"), ref).drop("county_code")
    counties = ref.counties.select("county_code", F.col("city_code").alias("c_city"), F.col("county_norm").alias("c_norm"))
    named = base.select("station_id", normalize_place(F.col("county_name")).alias("county_norm"))
    county = placed.join(named, "station_id").join(
        F.broadcast(counties), (F.col("city_code") == F.col("c_city")) & (F.col("county_norm") == F.col("c_norm")), "left"
    )
    out = county.select(
        *[c for c in placed.columns if c != "admin_method"],
        "county_code",
        F.when(F.col("county_code").isNotNull(), "name").otherwise(F.col("admin_method")).alias("admin_method"),
        F.lit(None).cast("array<string>").alias("former_names"),
        F.lit(None).cast("string").alias("same_site_as"),
        F.lit(None).cast("string").alias("station_class"),
        *[F.lit(None).cast("bigint").alias(f"h3_r{r}") for r in (5, 7, 9)],
    )
    lake.merge(out.dropDuplicates(["station_id"]), SILVER_STATIONS)


def _run(ctx: RunContext) -> dict[str, int]:
    """The registry from the national lists (skipped when they did not change), then the station
    lists the sub-national tiers deliver (station-lists batches not conformed yet)."""
    from jobs.silver import station_lists
    from jobs.silver.pipeline import conform

    summary = run(ctx.lake)
    lists = conform(ctx.lake, SILVER_STATIONS, SILVER_STATIONS, station_lists.run)
    return {**summary, **{f"lists_{k}": v for k, v in lists.items()}}


JOB = Job(
    name=SILVER_STATIONS,
    layer="silver",
    reads=(),
    writes=(SILVER_STATIONS, SILVER_STATION_ALIASES),
    run=_run,
    scope=WHOLE_TABLE,
    records=(BRONZE_INGEST_BATCHES, SILVER_CONFORMED_BATCHES, BRONZE_QUARANTINE),
    extra={"conforms": SILVER_STATIONS},
    doc="the national station registry: the official lists, then the tiers' own station lists",
)
