"""What a run built and where to look: printed at the end of `smartmon nightly`."""

from __future__ import annotations

from collections.abc import Iterable

from smartmon import catalog
from smartmon.catalog.names import SILVER_STATIONS
from smartmon.io import Lake

# `smartmon status` exit codes, for schedulers that act on them (cron mail, Airflow, a k8s Job).
STATUS_OK, STATUS_FAILED, STATUS_NO_RUN = 0, 1, 3


def run_verdict(statuses: Iterable[str]) -> int:
    """Exit code of one run from its task attempts' statuses: a task that failed for good is
    recorded 'failed' (attempts that were retried say 'retried'), so one 'failed' fails the run."""
    seen = list(statuses)
    if not seen:
        return STATUS_NO_RUN
    return STATUS_FAILED if "failed" in seen else STATUS_OK


def lake_summary(lake: Lake) -> list[tuple[str, int, int, str]]:
    """(table, rows, version, path) for every declared table that exists."""
    out = []
    for spec in catalog.all_tables():
        if not lake.exists(spec.fqn):
            continue
        out.append((spec.fqn, lake.read(spec.fqn).count(), lake.version(spec.fqn), lake.path(spec.fqn)))
    return out


def print_lake_summary(lake: Lake) -> None:
    rows = lake_summary(lake)
    print(f"\nlake: {lake.cfg.lake}  (profile {lake.cfg.profile}, data {lake.cfg.data_root})")
    for fqn, n, version, _path in rows:
        print(f"  {fqn:28s} {n:>12,d} rows  v{version}")
    print(f"\ncatalog: smartmon tables (TABLES.md); read e.g. polars.read_delta('{lake.path(SILVER_STATIONS)}')")
    print(f"MLflow: {lake.cfg.mlflow_tracking_uri}   runs log: smartmon status")
