"""H3 cells as BIGINT columns, computed over Arrow batches (never a per-row Python UDF).

Where the point is a station, index the station once (silver.stations) and join; with_h3 is
for tables whose points move or are many (grids, synthetic networks).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import h3
import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import types as T

RESOLUTIONS = (5, 7, 9)


def cells(lat: np.ndarray, lon: np.ndarray, res: int) -> pa.Array:
    """H3 cell ids (int64) for arrays of WGS84 degrees; null where a coordinate is missing or invalid."""
    lat = np.asarray(lat, dtype="float64")
    lon = np.asarray(lon, dtype="float64")
    valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    out = np.zeros(lat.shape[0], dtype="int64")
    to_int = h3.str_to_int
    latlng = h3.latlng_to_cell
    idx = np.flatnonzero(valid)
    out[idx] = [to_int(latlng(a, b, res)) for a, b in zip(lat[idx].tolist(), lon[idx].tolist(), strict=True)]
    return pa.array(out, type=pa.int64(), mask=~valid)


def _float_column(batch: pa.RecordBatch, name: str) -> np.ndarray:
    col = batch.column(name).cast(pa.float64())
    return col.to_numpy(zero_copy_only=False) if col.null_count == 0 else col.fill_null(np.nan).to_numpy(zero_copy_only=False)


def with_h3(
    df: DataFrame,
    lat: str = "lat",
    lon: str = "lon",
    resolutions: Sequence[int] = RESOLUTIONS,
    prefix: str = "h3_r",
) -> DataFrame:
    """Add h3_r<res> BIGINT columns computed batch-wise with mapInArrow."""
    names = [f"{prefix}{r}" for r in resolutions]
    schema = T.StructType(
        [f for f in df.schema.fields if f.name not in names] + [T.StructField(n, T.LongType(), True) for n in names]
    )
    keep = [f.name for f in df.schema.fields if f.name not in names]

    def add(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            la = _float_column(batch, lat)
            lo = _float_column(batch, lon)
            arrays = [batch.column(n) for n in keep] + [cells(la, lo, r) for r in resolutions]
            yield pa.RecordBatch.from_arrays(arrays, names=keep + names)

    return df.select(*keep).mapInArrow(add, schema)


def parent_map(children: list[int], res: int) -> dict[int, int]:
    """Parent cell at res of each child. H3 children do not tile their parent exactly, so a
    point's own coarse cell can differ from its fine cell's parent; aggregates that must add up
    across resolutions group by the parent instead."""
    return {int(c): int(h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), res))) for c in children}
