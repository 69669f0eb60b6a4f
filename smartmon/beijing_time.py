"""Beijing wall-clock time: the only conversions between it and the lake's UTC.

Sources publish in Beijing time, users type it and the standards' day ends at Beijing
midnight; the lake stores UTC instants (naive timestamps in UTC, the Spark session's zone).
Every conversion goes through the IANA zone here, never a fixed +8 h written at the call site,
so the rule lives in one place. The results equal a fixed UTC+8 for every instant since 1992
(China has had no DST since 1991; the data start in 2013).

Hour-ending convention: an hourly value's timestamp is the END of its hour, so the hour ending
at 00:00 is the last hour of the day before (beijing_day, beijing_day_of, beijing_day_bounds_utc).
beijing_date is the plain calendar date of an instant, without that shift.

Only the standard library is imported at module level, so processes that must not load Spark or
pandas (the HJ 212 receiver) take BEIJING from here too; the pandas and Spark helpers import
their library when called.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import Column

ZONE = "Asia/Shanghai"  # the IANA name, for Spark and DuckDB
BEIJING = ZoneInfo(ZONE)  # for Python datetimes and pandas


# ------------------------------------------------------------------------ Python datetimes
def to_beijing(t: datetime) -> datetime:
    """An instant as aware Beijing time; a naive `t` is UTC (the lake's convention)."""
    return (t.replace(tzinfo=UTC) if t.tzinfo is None else t).astimezone(BEIJING)


def to_utc_naive(t: datetime) -> datetime:
    """A time as the lake's naive UTC; a naive `t` is Beijing wall-clock time, as users and
    sources give it (an aware one keeps its own offset)."""
    return (t.replace(tzinfo=BEIJING) if t.tzinfo is None else t).astimezone(UTC).replace(tzinfo=None)


def beijing_day_bounds_utc(start: date, end: date) -> tuple[datetime, datetime]:
    """Aware UTC (lo, hi) of the Beijing days start..end: Beijing midnight opening `start` and
    closing `end`. For hour-ending timestamps the days' hours are lo < ts <= hi, so day D is
    (D-1 16:00 UTC, D 16:00 UTC]; for instants, lo <= ts < hi."""
    lo = datetime.combine(start, time.min, tzinfo=BEIJING).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=BEIJING).astimezone(UTC)
    return lo, hi


def beijing_date(ts: pd.Timestamp | datetime) -> pd.Timestamp:
    """The Beijing calendar date of a naive UTC instant, as a naive midnight Timestamp (the form
    pandas date columns such as electricity per Beijing day compare with)."""
    import pandas as pd

    t = pd.Timestamp(ts)
    t = t.tz_localize(UTC) if t.tzinfo is None else t
    return t.tz_convert(BEIJING).tz_localize(None).normalize()


# ----------------------------------------------------------------------------------- pandas
def beijing_day_of(ts: pd.Series) -> pd.Series:
    """Beijing day (datetime.date) of hour-ending UTC timestamps: the hour ending at 00:00 is the
    day before's. Naive values are UTC."""
    import pandas as pd

    return (pd.to_datetime(ts, utc=True) - pd.Timedelta(seconds=1)).dt.tz_convert(BEIJING).dt.date


def beijing_wall_clock(ts: pd.Series) -> pd.Series:
    """UTC instants as naive Beijing wall-clock times (for axes and tables read by people).
    Naive values are UTC."""
    import pandas as pd

    return pd.to_datetime(ts, utc=True).dt.tz_convert(BEIJING).dt.tz_localize(None)


# ------------------------------------------------------------------------------------ Spark
def utc_to_beijing(ts: Column | str) -> Column:
    """A UTC instant as Beijing wall-clock time (for hour of day, date and month parts)."""
    from pyspark.sql import functions as F

    return F.from_utc_timestamp(ts, ZONE)


def beijing_to_utc(local: Column) -> Column:
    """A Beijing wall-clock time as a UTC instant."""
    from pyspark.sql import functions as F

    return F.to_utc_timestamp(local, ZONE)


def month_local(ts: Column | str) -> Column:
    """yyyy-MM of a UTC instant in Beijing time (the partition of hourly tables)."""
    from pyspark.sql import functions as F

    return F.date_format(utc_to_beijing(ts), "yyyy-MM")


def beijing_day(ts: Column) -> Column:
    """The Beijing date an hourly value belongs to: ts is the end of the hour, so the hour
    ending at 00:00 is the last of the day before."""
    from pyspark.sql import functions as F

    return F.to_date(utc_to_beijing(ts - F.expr("INTERVAL 1 SECOND")))
