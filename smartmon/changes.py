"""Which Beijing days a day-scoped job must build: the days whose inputs changed since it last ran.

The air chain (silver.air_hourly -> QC -> real-time AQI -> moving values -> daily AQI ->
evaluation and aggregates) is scoped by Beijing day. Each writer notes the days it changed in
`silver.changed_days` (one small row per table, day and run); each consumer keeps in
`silver.change_marks` the version of `silver.changed_days` it consumed last, and its next run
takes the rows committed after that version (Delta row tracking gives every row the version that
committed it, and keeps it through compaction). Finding the work therefore reads a table of a
few rows per night, never the data: the month fingerprints this replaced scanned every month of
silver.air_hourly each night, so their cost grew with the history.

A late correction for an old day notes that day alone, so it and what depends on it (the next
day's moving windows, its month's evaluation) are rebuilt and nothing else. A consumer without a
mark (its first run, or a QC rule book of a new version: the version is part of the consumer's
name) builds every day its bootstrap finds in the data, once.

Windows: a day D holds the hours ending in (D 00:00, D+1 00:00] Beijing time. `DayWindow` turns a
set of days (plus a declared lookback) into the literal predicates Delta prunes files and
partitions by: a month partition list and ts ranges, so a job reads the files of its days, not
the month's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from smartmon.beijing_time import beijing_day, beijing_day_bounds_utc, to_beijing
from smartmon.catalog.names import SILVER_CHANGE_MARKS, SILVER_CHANGED_DAYS
from smartmon.io import Lake

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------- day windows
def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days -> runs of consecutive days (first, last)."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if out and d == out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def literal(t: datetime) -> str:
    """A naive UTC datetime as a Spark SQL timestamp literal."""
    return f"TIMESTAMP'{t.strftime('%Y-%m-%d %H:%M:%S')}'"


def issues_where(issued: Iterable[datetime], kinds: Iterable[str] = ()) -> Callable[[str], str]:
    """The MERGE bound (Lake.merge's `where`) of rows keyed by forecast issue: these issue times
    (and kinds, when given), qualified by the alias the MERGE gives. A table keeping every issue
    holds a month of them in its partition; bounded so, a night reads and rewrites the files of
    its own issues (their issued_at statistics), not the month's."""
    times = ", ".join(literal(i) for i in sorted(set(issued)))
    names = ", ".join(f"'{k}'" for k in sorted(set(kinds)))

    def where(alias: str) -> str:
        q = f"{alias}." if alias else ""
        return f"{q}`issued_at` IN ({times})" + (f" AND {q}`kind` IN ({names})" if names else "")

    return where


@dataclass(frozen=True)
class DayWindow:
    """Beijing days, and the hours a job reads for them: `lookback` before each day."""

    days: tuple[date, ...]
    lookback: timedelta = timedelta(0)

    @classmethod
    def of(cls, days: Iterable[date], lookback: timedelta = timedelta(0)) -> DayWindow:
        return cls(tuple(sorted(set(days))), lookback)

    def __bool__(self) -> bool:
        return bool(self.days)

    def ranges(self, widen: bool = True) -> list[tuple[datetime, datetime]]:
        """Naive UTC (lo, hi] ranges of the days' hours (widened by the lookback unless not)."""
        out: list[tuple[datetime, datetime]] = []
        for first, last in _runs(self.days):
            lo, hi = beijing_day_bounds_utc(first, last)
            lo, hi = lo.replace(tzinfo=None), hi.replace(tzinfo=None)
            if widen:
                lo -= self.lookback
            if out and lo <= out[-1][1]:
                out[-1] = (out[-1][0], max(hi, out[-1][1]))
            else:
                out.append((lo, hi))
        return out

    def months(self, widen: bool = True) -> list[str]:
        """The month partitions (Beijing calendar month of the instant) the ranges touch."""
        months: set[str] = set()
        for lo, hi in self.ranges(widen):
            first, last = to_beijing(lo + timedelta(seconds=1)), to_beijing(hi)
            y, m = first.year, first.month
            while (y, m) <= (last.year, last.month):
                months.add(f"{y:04d}-{m:02d}")
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return sorted(months)

    def predicate(self, col: str = "ts", widen: bool = True, alias: str = "") -> str:
        """SQL: the hour-ending timestamps in the window ((lo, hi] per run of days)."""
        if not self.days:
            return "false"
        c = f"{alias}.`{col}`" if alias else f"`{col}`"
        return " OR ".join(f"({c} > {literal(lo)} AND {c} <= {literal(hi)})" for lo, hi in self.ranges(widen))

    def where(self, col: str = "ts", widen: bool = True, alias: str = "") -> str:
        """Month partitions and ts ranges together: the literal predicate Delta prunes by."""
        months = ", ".join(f"'{m}'" for m in self.months(widen))
        m = f"{alias}.`month`" if alias else "`month`"
        return f"{m} IN ({months}) AND ({self.predicate(col, widen, alias)})" if self.days else "false"

    def day_predicate(self, col: str = "day", alias: str = "") -> str:
        """SQL on a date column: the days themselves."""
        if not self.days:
            return "false"
        c = f"{alias}.`{col}`" if alias else f"`{col}`"
        return " OR ".join(f"({c} BETWEEN DATE'{a}' AND DATE'{b}')" for a, b in _runs(self.days))

    def day_months(self) -> list[str]:
        """The calendar months of the days themselves (the partition of the daily tables)."""
        return sorted({d.strftime("%Y-%m") for d in self.days})

    def daily_where(self, alias: str = "", col: str = "day") -> str:
        """Month partitions and days together, on a daily table: the literal predicate Delta prunes by."""
        if not self.days:
            return "false"
        m = f"{alias}.`month`" if alias else "`month`"
        return f"{m} IN ({', '.join(repr(x) for x in self.day_months())}) AND ({self.day_predicate(col, alias)})"

    def describe(self) -> str:
        runs = _runs(self.days)
        return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in runs) or "no day"


def days_of_month(month: str) -> list[date]:
    """yyyy-MM -> its days (explicit runs: `smartmon gold --month`)."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return [first + timedelta(days=i) for i in range((nxt - first).days)]


def days_spanning(ts_from: datetime, ts_to: datetime) -> list[date]:
    """The Beijing days of the hour-ending times ts_from..ts_to (naive UTC)."""
    # a range starting inside an hour covers that hour (smartmon.qc.apply rounds ts_from down)
    start = ts_from.replace(minute=0, second=0, microsecond=0)
    first = to_beijing(start - timedelta(seconds=1)).date()
    last = to_beijing(ts_to - timedelta(seconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def days_in(df: DataFrame, ts: str = "ts") -> list[date]:
    """The Beijing days of hour-ending timestamps in a frame (one small aggregation)."""
    return sorted(r.d for r in df.where(F.col(ts).isNotNull()).select(beijing_day(F.col(ts)).alias("d")).distinct().collect())


# --------------------------------------------------------------------------- the change log
def note(lake: Lake, table: str, days: Iterable[date], run_id: str = "") -> int:
    """Record that `table`'s rows of these Beijing days changed; returns the days noted."""
    days = sorted(set(days))
    if not days:
        return 0
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = lake.spark.createDataFrame([(table, d, run_id, now) for d in days], "table string, day date, run_id string, noted_at timestamp")
    lake.append(rows, SILVER_CHANGED_DAYS)
    log.info("%s: changed days %s", table, DayWindow.of(days).describe())
    return len(days)


@dataclass(frozen=True)
class Pending:
    """The days a consumer must build, and the change-log version that accounts for them."""

    consumer: str
    days: tuple[date, ...]
    version: int
    first: bool
    since: int | None = None  # the mark it started from


def pending(lake: Lake, consumer: str, inputs: Iterable[str], bootstrap: Callable[[], Iterable[date]]) -> Pending:
    """Days changed in `inputs` since `consumer` last marked, or every day of `bootstrap()` when
    it has no mark yet."""
    inputs = sorted(set(inputs))
    version = lake.version(SILVER_CHANGED_DAYS)
    since = lake.read(SILVER_CHANGE_MARKS).where(F.col("consumer") == consumer).agg(F.max("version")).first()[0]
    log_rows = lake.read(SILVER_CHANGED_DAYS, version=version).where(F.col("table").isin(*inputs))
    if since is None:
        days = set(bootstrap()) | {r.day for r in log_rows.select("day").distinct().collect()}
        log.info("%s: no mark yet, builds every day of its inputs (%d)", consumer, len(days))
        return Pending(consumer, tuple(sorted(days)), version, True)
    new = log_rows.where(F.col("_metadata.row_commit_version") > since).select("day").distinct().collect()
    return Pending(consumer, tuple(sorted(r.day for r in new)), version, False, int(since))


def done(lake: Lake, p: Pending) -> None:
    """The consumer has built (durably) every day of p: advance its mark (an append: the latest
    mark is the greatest version; nothing is appended when the log did not move)."""
    if not p.first and p.version == p.since:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    row = lake.spark.createDataFrame([(p.consumer, p.version, len(p.days), now)],
                                     "consumer string, version bigint, days bigint, updated_at timestamp")
    lake.append(row, SILVER_CHANGE_MARKS)



@contextmanager
def consuming(lake: Lake, consumer: str, inputs: Iterable[str], bootstrap: Callable[[], Iterable[date]],
              days: Iterable[date] | None = None) -> Iterator[Pending]:
    """The days a consumer builds inside the block: the given days (explicit runs: no mark is
    read or advanced), or those pending in the change log, whose mark advances only when the
    block ends without an error (acknowledge only what is durable)."""
    if days is not None:
        yield Pending(consumer, tuple(sorted(set(days))), -1, False)
        return
    p = pending(lake, consumer, inputs, bootstrap)
    yield p
    done(lake, p)
