"""silver.land_use: land-cover shares per H3 res-6 cell (sent as the cell's hex string)."""

from __future__ import annotations

from pyspark.sql import functions as F

from jobs.silver.conform import LINEAGE_COLS, bronze_rows, refusals
from jobs.silver.fields import Field, extract, write
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import BRONZE_LAND_USE, SILVER_LAND_USE
from smartmon.io import Lake

SHARES = ("cropland", "forest", "grassland", "water", "built_up", "unused")
FIELDS = {"h3_hex": Field("h3_r6"), "year": Field("year", "int"), **{s: Field(s, "double") for s in SHARES}}


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    bronze = bronze_rows(lake, BRONZE_LAND_USE, "land-use", batches)
    if bronze is None:
        return {"rows_in": 0}
    rows, refused = extract(bronze, FIELDS)
    total = sum(F.col(s) for s in SHARES)
    cell = F.conv(F.col("h3_hex"), 16, 10).try_cast("bigint")
    why = (F.when(cell.isNull() | ~F.col("h3_hex").rlike("^86[0-9a-f]{13}$"), F.concat(F.lit("not an H3 res-6 cell: "), F.col("h3_hex")))
           .when(F.abs(total - 1) > 0.001, F.concat(F.lit("shares sum to "), F.format_number(total, 4), F.lit(", not 1"))))
    staged = rows.withColumn("_why", why)
    refused = refused.unionByName(refusals(staged.where(F.col("_why").isNotNull()), F.col("_why"), F.col("h3_hex")))
    good = staged.where(F.col("_why").isNull()).select(cell.alias("h3_r6"), "year", *SHARES, *LINEAGE_COLS)
    return write(lake, good, refused, SILVER_LAND_USE)


JOB = silver_job(SILVER_LAND_USE, run)
