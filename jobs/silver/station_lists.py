"""silver.stations from the station lists the sub-national tiers publish (station-lists feed).

Provincial lists (GBK, Chinese headers) give air, traffic and supersite stations of tier
provincial; county and township lists name their tier. Admin codes are the county code the
list gives (admin_method 'source'), its prefecture and province codes derived from it; H3 cells
are computed once per station here, so observation rows never index H3 themselves."""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.silver.conform import LINEAGE_COLS, bronze_rows, refusals
from jobs.silver.fields import Field, admin_codes, extract, write
from smartmon.catalog.names import BRONZE_STATION_LISTS, SILVER_STATIONS
from smartmon.catalog.silver import TIERS
from smartmon.geo.h3cells import with_h3
from smartmon.io import Lake

log = logging.getLogger(__name__)

KIND_CN = {"环境空气": "air", "交通": "traffic", "超级站": "supersite"}
PROVINCIAL = {"station_id": Field("站点编码"), "name": Field("站点名称"), "kind_cn": Field("站点类型"),
              "city_name": Field("城市", required=False), "county_code": Field("区县代码"),
              "lon": Field("经度", "double", required=False), "lat": Field("纬度", "double", required=False)}
LOCAL = {"station_id": Field("station_code"), "name": Field("name"), "tier": Field("tier"), "city_name": Field("city", required=False),
         "county_code": Field("county_code"), "lat": Field("lat", "double", required=False), "lon": Field("lon", "double", required=False),
         "station_class": Field("sensor", required=False)}


def stations(bronze: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(registry rows, refusals): unknown station types or tiers and malformed county codes are refused."""
    prov, bad_p = extract(bronze.where("layout = 'provincial'"), PROVINCIAL)
    kinds = F.create_map(*[x for k, v in KIND_CN.items() for x in (F.lit(k), F.lit(v))])
    prov = prov.select("*", kinds[F.col("kind_cn")].alias("kind"), F.lit("provincial").alias("tier"),
                       F.lit(None).cast("string").alias("station_class"))
    local, bad_l = extract(bronze.where("layout = 'county-township'"), LOCAL)
    local = local.withColumn("kind", F.lit("air")).withColumn("kind_cn", F.lit(None).cast("string"))
    rows = prov.unionByName(local)
    wrong = (F.when(F.col("kind").isNull(), F.concat(F.lit("unknown station type "), F.coalesce("kind_cn", F.lit(""))))
             .when(~F.col("tier").isin(*TIERS), F.concat(F.lit("unknown tier "), F.col("tier")))
             .when(~F.col("county_code").rlike(r"^\d{6}$"), F.concat(F.lit("county code is not 6 digits: "), F.col("county_code"))))
    staged = rows.withColumn("_why", wrong)
    refused = refusals(staged.where(F.col("_why").isNotNull()), F.col("_why"), F.col("station_id"))
    ok = staged.where(F.col("_why").isNull()).select(
        "station_id", "name", F.lit(None).cast("array<string>").alias("former_names"), "tier", "kind",
        F.when(F.col("tier") == "provincial", F.concat(F.lit("provincial-"), F.substring("county_code", 1, 2), F.lit("0000")))
        .otherwise(F.col("tier")).alias("network"),
        "city_name", *admin_codes(),
        "county_code", F.lit("source").alias("admin_method"), "lat", "lon",
        F.lit(None).cast("string").alias("same_site_as"), "station_class", *LINEAGE_COLS,
    )
    return with_h3(ok), bad_p.unionByName(bad_l).unionByName(refused)


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    bronze = bronze_rows(lake, BRONZE_STATION_LISTS, "station-lists", batches)
    if bronze is None:
        return {"rows_in": 0}
    rows, refused = stations(bronze)
    return write(lake, rows, refused, SILVER_STATIONS)
