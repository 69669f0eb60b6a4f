"""Beijing wall-clock time as Spark columns. Sources publish in Beijing time (UTC+8, no DST
since 1991), the lake stores UTC; these are the only conversions between the two."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

BEIJING = "Asia/Shanghai"


def beijing_to_utc(local: Column) -> Column:
    """A Beijing wall-clock time as a UTC instant."""
    return F.to_utc_timestamp(local, BEIJING)


def month_local(ts: Column | str) -> Column:
    """yyyy-MM of a UTC instant in Beijing time (the partition of hourly tables)."""
    return F.date_format(F.from_utc_timestamp(ts, BEIJING), "yyyy-MM")


def beijing_day(ts: Column) -> Column:
    """The Beijing date an hourly value belongs to: ts is the end of the hour, so the hour
    ending at 00:00 is the last of the day before."""
    return F.to_date(F.from_utc_timestamp(ts - F.expr("INTERVAL 1 SECOND"), BEIJING))
