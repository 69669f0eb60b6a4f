"""Every CLI subcommand and every pipeline task definition loads (Dagster-style smoke test)."""

import importlib
import subprocess
import sys

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
    assert [t.name for t in tasks][0] == "silver.stations"
    for t in tasks:
        module = importlib.import_module(t.fn.__module__)
        assert callable(getattr(module, t.fn.__name__))


def test_bad_date_is_refused_with_a_clear_message():
    r = subprocess.run([sys.executable, "-m", "pipelines.cli", "nightly", "--date", "2019-13-01"], capture_output=True, text=True)
    assert r.returncode == 2 and "not a date" in r.stderr
