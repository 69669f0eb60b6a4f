"""Great-circle distance on the mean Earth sphere: the one radius and the haversine formula.

Station neighbours (QC), nearest county seats (admin codes), upwind candidates, the simulated
network and scenario response all compare distances with each other and with radii from the
rule book, so they must all use the same sphere. The numpy twin serves pandas/numpy code, the
Column twin Spark jobs; both take degrees and return kilometres. Spark is imported only by the
Column twin, so numpy callers (QC neighbours, upwind, the simulator) do not load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from pyspark.sql import Column

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius R1


def distance_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle km between point(s) 1 and point(s) 2 (numpy broadcasting; pandas Series are
    read as plain arrays, so no index alignment). The clip keeps antipodal rounding from NaN."""
    p1, p2 = np.radians(np.asarray(lat1)), np.radians(np.asarray(lat2))
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def distance_km_column(lat1: Column, lon1: Column, lat2: Column, lon2: Column) -> Column:
    """distance_km() as a Spark expression, so joins on distance need no Python UDF."""
    from pyspark.sql import functions as F

    dlat = F.radians(lat2 - lat1)
    dlon = F.radians(lon2 - lon1)
    a = F.sin(dlat / 2) ** 2 + F.cos(F.radians(lat1)) * F.cos(F.radians(lat2)) * F.sin(dlon / 2) ** 2
    return F.lit(2 * EARTH_RADIUS_KM) * F.asin(F.sqrt(a))
