"""What a job declares: its name, the tables it reads and writes, its scope and its runner.

Declarations are data, in the spirit of Spark Declarative Pipelines' datasets and Dagster's
software-defined assets: a job says what it reads and writes (table constants from
`smartmon.catalog.names`, never strings), and the order of the night, the CLI's choices, the
Airflow DAG and the catalog page's graph are all derived from the declarations
(`pipelines.definitions`). Nothing here imports a job, so job modules can import it freely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

from smartmon.errors import GraphError

if TYPE_CHECKING:
    from smartmon.io import Lake

# The layers jobs are grouped by (the Airflow TaskGroups, the plan's sections), in night order.
LAYERS = ("bronze", "silver", "qc", "gold", "features", "forecasts", "scenarios", "reports", "maintenance")

Grain = Literal["files", "batches", "days", "table"]


@dataclass(frozen=True)
class RunContext:
    """What a runner is given: the lake, the Beijing day the night is for, and the run's id."""

    lake: Lake
    run_date: date
    run_id: str


Runner = Callable[[RunContext], dict[str, int]]


@dataclass(frozen=True)
class Scope:
    """How a run date maps to the partitions a job reads and writes.

    grain: files (landing files not ingested before), batches (bronze batches not conformed
    yet), days (a window of `days` Beijing days ending on the run date; with `changed`, the
    days whose inputs changed since the job last built them, which on a normal night is the run
    date: smartmon.changes), table (the whole table: small reference tables).
    lookback: how far before a day's first hour the job reads (a 24 h moving mean needs the
    day before), so the hours read can reach into the previous day and month.
    """

    grain: Grain
    lookback: timedelta = timedelta(0)
    days: int = 1
    changed: bool = False

    def read_window(self, run_date: date) -> tuple[date, date]:
        first = run_date - timedelta(days=self.days - 1) - self.lookback
        return first, run_date

    def partitions(self, run_date: date) -> list[str]:
        """The Beijing days (date=YYYY-MM-DD) a run for run_date reads, lookback included; empty
        for the data-driven grains (files, batches) and whole tables."""
        first, last = self.read_window(run_date)
        if self.grain == "days":
            return [f"date={first + timedelta(days=i)}" for i in range((last - first).days + 1)]
        return []

    def describe(self, run_date: date) -> str:
        parts = self.partitions(run_date)
        what = {
            "files": "landing files not ingested before",
            "batches": "bronze batches not conformed yet",
            "days": f"days {parts[0][5:]}..{parts[-1][5:]}" if len(parts) > 1 else (parts[0] if parts else ""),
            "table": "the whole table",
        }[self.grain]
        if self.lookback and self.grain == "days":
            what += f" (lookback {_hours(self.lookback)})"
        if self.changed:
            what += " + any day whose inputs changed"
        return what


def _hours(delta: timedelta) -> str:
    h = int(delta.total_seconds() // 3600)
    return f"{h // 24} d" if h % 24 == 0 else f"{h} h"


NEW_FILES = Scope("files")
NEW_BATCHES = Scope("batches")
WHOLE_TABLE = Scope("table")


def by_day(lookback: timedelta = timedelta(0)) -> Scope:
    """The run date and any other day whose inputs changed (a late correction), each read with
    its lookback: what the air chain's jobs build (smartmon.changes)."""
    return Scope("days", lookback=lookback, changed=True)


def day_window(n: int) -> Scope:
    """The n Beijing days ending on the run date."""
    return Scope("days", days=n)


@dataclass(frozen=True)
class Job:
    """One job of the platform.

    reads/writes: table (or artifact) names from `smartmon.catalog.names`; the graph infers a
    job's upstream jobs as the writers of what it reads, and refuses two writers of one table.
    records: shared bookkeeping tables (run logs, the quarantine, batch manifests) many jobs
    append to; they order nothing. reads_earlier: tables read as earlier nights left them (a
    lagged input, Dagster's time-window offset of -1: the skill of past issues decides tonight's
    retrain); they order nothing, so tonight's writer may run after the reader. transform: the pure DataFrame -> DataFrame function at the
    job's heart (for the docs and for tests), when it has one; run: the thin runner that reads,
    transforms and writes. after_all: runs once every other job of the night is done
    (maintenance).
    """

    name: str
    layer: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    run: Runner
    scope: Scope = WHOLE_TABLE
    transform: Callable[..., object] | None = None
    records: tuple[str, ...] = ()
    reads_earlier: tuple[str, ...] = ()
    after_all: bool = False
    retries: int = 2
    doc: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise GraphError(f"job {self.name}: layer {self.layer!r} is not one of {LAYERS}")
