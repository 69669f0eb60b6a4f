"""GB/T 2260 admin codes for stations: city by name, county by nearest county seat.

Method (measured in tests/integration/test_stations.py and reported in the README):
1. The source's city name is normalised (one administrative suffix such as 市/地区/盟/自治州/州
   removed when two characters remain) and matched by prefix to prefecture names
   (municipalities match their province name). A name that matches exactly one prefecture
   gives province and city; several prefectures of one province (重庆's 市辖区 and 县) give
   the province only.
2. Names that match no prefecture are tried against county-level names (the CNEMC list has
   county-level cities such as 义乌 and 常熟); a unique match gives the county directly.
3. The county is the county whose seat (cpca's administrative-seat points) is nearest to the
   station, among the counties of the matched city (or province); with no match, among all.
Seats are points, not polygons, so a station near a district border can get the neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from smartmon.geo.distance import distance_km_column

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


def assign_admin_codes(stations: DataFrame, ref: AdminReference) -> DataFrame:
    """Add province_code, city_code, county_code and admin_method to rows with station_id,
    city_name (may be null), lat, lon."""
    matched = match_city_names(stations.where(F.col("city_name").isNotNull()), ref)
    s = stations.join(F.broadcast(matched), "city_name", "left")
    seats = ref.counties.where(F.col("seat_lat").isNotNull()).select(
        F.col("county_code").alias("k_code"),
        F.col("city_code").alias("k_city"),
        F.col("province_code").alias("k_prov"),
        "seat_lat",
        "seat_lon",
    )
    located = s.where(F.col("lat").isNotNull() & F.col("lon").isNotNull() & F.col("county_code").isNull()).select(
        "station_id", "lat", "lon", "city_code", "province_code"
    )
    # Equi-joins where the name told us the city or province; a cross join only for the rest.
    pairs = (
        located.where(F.col("city_code").isNotNull())
        .join(F.broadcast(seats), F.col("city_code") == F.col("k_city"))
        .unionByName(
            located.where(F.col("city_code").isNull() & F.col("province_code").isNotNull()).join(
                F.broadcast(seats), F.col("province_code") == F.col("k_prov")
            )
        )
        .unionByName(
            located.where(F.col("city_code").isNull() & F.col("province_code").isNull()).crossJoin(F.broadcast(seats))
        )
    )
    nearest = (
        pairs.withColumn("dist_km", distance_km_column(F.col("lat"), F.col("lon"), F.col("seat_lat"), F.col("seat_lon")))
        .groupBy("station_id")
        .agg(F.min_by(F.struct("k_code", "k_city", "k_prov"), F.struct("dist_km", "k_code")).alias("best"))
        .select("station_id", "best.*")
    )
    out = s.join(nearest, "station_id", "left")
    return out.select(
        *[c for c in stations.columns],
        F.coalesce("province_code", "k_prov").alias("province_code"),
        F.coalesce("city_code", "k_city").alias("city_code"),
        F.coalesce("county_code", "k_code").alias("county_code"),
        F.when(F.col("matched_by") == "county", F.lit("name"))
        .when(F.col("matched_by").isin("city", "province"), F.when(F.col("k_code").isNotNull(), "name+nearest-seat").otherwise("name"))
        .when(F.col("k_code").isNotNull(), F.lit("nearest-seat"))
        .alias("admin_method"),
    )
