"""Rounding of means and percentiles that does not depend on how Spark partitioned the sum.

A floating-point mean changes in its last bits with the order the values were added in, and the
order follows the partitioning: 24 CO readings averaged 1.1499999999999999 on one machine and
1.1500000000000001 on a cluster, so the published daily value was 1.1 on one and 1.2 on the other
(found by `make test-cluster`). Monitoring values carry at most 3 decimals, so snapping to 9
decimals first removes the noise and leaves the standard's rounding to decide.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

SNAP_DECIMALS = 9


def snap(c: Column) -> Column:
    """A sum or mean without the last-bit noise of its summation order."""
    return F.bround(c, SNAP_DECIMALS)


def standard_round(c: Column, decimals: int) -> Column:
    """Half to even at `decimals` (HJ 633 / HJ 663 reporting), after the snap."""
    return F.bround(snap(c), decimals)
