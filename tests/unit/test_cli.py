"""Every CLI subcommand and every pipeline task definition loads (Dagster-style smoke test)."""

import importlib
import subprocess
import sys

import pytest

from pipelines import nightly
from pipelines.cli import build_parser
from pipelines.dag import order


def test_help_lists_only_real_subcommands():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert callable(p.get_default("fn")), name
    out = subprocess.run([sys.executable, "-m", "pipelines.cli", "--help"], capture_output=True, text=True, check=True).stdout
    for name in sub.choices:
        assert name in out


def test_every_task_definition_loads_and_orders():
    tasks = order(nightly.TASKS)
    names = [t.name for t in tasks]
    assert names[:2] == ["silver.stations", "bronze.ingest"]
    for t in tasks:
        assert callable(t.fn) and importlib.import_module(t.fn.__module__)
    from jobs.silver.pipeline import SILVER_JOBS, table_of
    from smartmon import catalog

    for job, spec in SILVER_JOBS.items():
        assert job in names and callable(spec.run)
        catalog.get(table_of(job))
        assert all(names.index(dep) < names.index(job) for dep in spec.after)
    from jobs.bronze.ingest import ADAPTERS

    for adapter in ADAPTERS.values():
        catalog.get(adapter.BRONZE)


def test_bad_date_is_refused_with_a_clear_message():
    r = subprocess.run([sys.executable, "-m", "pipelines.cli", "nightly", "--date", "2019-13-01"], capture_output=True, text=True)
    assert r.returncode == 2 and "not a date" in r.stderr


def test_audit_without_its_arguments_says_what_is_missing():
    r = subprocess.run([sys.executable, "-m", "pipelines.cli", "audit", "mark", "--station", "1001A"], capture_output=True, text=True)
    assert r.returncode == 2 and "missing --from --to --reason --auditor" in r.stdout


@pytest.mark.parametrize(("argv", "message"), [
    (["--from", "2019-01-05", "--to", "2019-01-01"], "--to 2019-01-01 is before --from 2019-01-05"),
    (["--date", "2019-01-05", "--from", "2019-01-01", "--to", "2019-01-02"], "not both"),
    (["--from", "2019-01-01"], "give --date D, or --from D1 --to D2"),
])
def test_nightly_backfill_arguments_are_checked_before_any_work(argv, message):
    r = subprocess.run([sys.executable, "-m", "pipelines.cli", "nightly", *argv], capture_output=True, text=True)
    assert r.returncode == 1 and message in r.stderr


def test_nightly_report_areas_and_periods():
    from datetime import date

    from pipelines import nightly_reports
    from smartmon.errors import ConfigError

    assert nightly_reports.areas() == [("national", "000000"), ("province", "110000"), ("city", "110100")]
    assert nightly_reports.areas("city:130100") == [("city", "130100")]
    with pytest.raises(ConfigError, match="'city:13'"):
        nightly_reports.areas("national,city:13")
    assert nightly_reports.periods(date(2019, 1, 30)) == ["day"]
    assert nightly_reports.periods(date(2019, 1, 31)) == ["day", "month"]
    assert nightly_reports.periods(date(2020, 2, 29)) == ["day", "month"]


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        (["ok", "ok", "skipped"], 0),
        (["retried", "ok"], 0),  # a task that failed once and then passed is not a failed run
        (["ok", "failed", "skipped"], 1),
        ([], 3),
    ],
)
def test_status_exit_code_follows_the_latest_run(statuses, code):
    from pipelines.summary import run_verdict

    assert run_verdict(statuses) == code
