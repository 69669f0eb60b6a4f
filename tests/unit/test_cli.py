"""Every CLI subcommand and every pipeline task definition loads (Dagster-style smoke test)."""

import importlib
import subprocess
import sys

import pytest

from pipelines.cli import build_parser


def test_help_lists_only_real_subcommands():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert callable(p.get_default("fn")), name
    out = subprocess.run([sys.executable, "-m", "pipelines.cli", "--help"], capture_output=True, text=True, check=True).stdout
    for name in sub.choices:
        assert name in out


def test_every_job_declaration_loads_and_orders():
    """Every declared job loads, names only declared tables, and runs after what it reads."""
    from jobs.bronze.adapter import adapters
    from pipelines.definitions import graph
    from smartmon import catalog
    from smartmon.catalog.names import ARTIFACTS

    g = graph()
    names = list(g.order)
    assert len(names) == len(set(names)) and names[0].startswith("ingest.") and names[-1] == "maintenance"
    for step in g.steps:
        job = step.job
        assert callable(job.run) and importlib.import_module(job.run.__module__)
        for table in (*job.reads, *job.writes, *job.records):
            assert table in ARTIFACTS or catalog.get(table)
        assert all(names.index(dep) < names.index(job.name) for dep in step.after)
    for adapter in adapters().values():
        assert f"ingest.{adapter.NAME}" in names
        catalog.get(adapter.BRONZE)


def _main(argv: list[str]) -> int:
    """pipelines.cli.main in this process (what `python -m pipelines.cli` runs; the help test
    above starts the real entry point): the exit code, argparse's SystemExit included."""
    from pipelines.cli import main

    try:
        return main(argv)
    except SystemExit as e:
        return int(e.code or 0)


def test_bad_date_is_refused_with_a_clear_message(capsys):
    assert _main(["nightly", "--date", "2019-13-01"]) == 2 and "not a date" in capsys.readouterr().err


def test_audit_without_its_arguments_says_what_is_missing(capsys):
    assert _main(["audit", "mark", "--station", "1001A"]) == 2
    assert "missing --from --to --reason --auditor" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["--date", "2019-01-05", "--to", "2019-01-01"], "--to 2019-01-01 is before --date 2019-01-05"),
    (["--only", "gold.aqi_daily", "--from", "gold.aqi_daily", "--date", "2019-01-02"], "not both"),
    (["--to", "2019-01-01"], "a backfill is --date D1 --to D2"),
    ([], "give --date D"),
])
def test_nightly_backfill_arguments_are_checked_before_any_work(argv, message, capsys):
    assert _main(["nightly", *argv]) == 1 and message in capsys.readouterr().err


def test_nightly_report_areas_and_periods():
    from datetime import date

    from jobs import reports as nightly_reports
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
