"""The job graph: declarations in, order, plan and refusals out (no Spark needed)."""

from __future__ import annotations

import ast
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipelines.definitions import Graph, graph
from smartmon import catalog
from smartmon.catalog import names
from smartmon.errors import GraphError
from smartmon.jobspec import NEW_BATCHES, WHOLE_TABLE, Job, Scope, by_day, day_window

REPO = Path(__file__).resolve().parents[2]
CODE = ("smartmon", "jobs", "pipelines", "features", "experiments", "infra", "bench")
A, B, C = names.SILVER_AIR_HOURLY, names.SILVER_QC_FLAGS, names.GOLD_AQI_HOURLY


def _job(name: str, reads: tuple[str, ...] = (), writes: tuple[str, ...] = (), **kw) -> Job:
    return Job(name=name, layer=kw.pop("layer", "gold"), reads=reads, writes=writes, run=lambda ctx: {}, **kw)


def test_dependencies_are_inferred_from_reads_and_writes():
    g = Graph([_job("c", reads=(B,), writes=(C,)), _job("b", reads=(A,), writes=(B,), layer="qc"),
               _job("a", writes=(A,), layer="silver"), _job("m", after_all=True, layer="maintenance")])
    assert g.order == ["a", "b", "c", "m"]
    assert g.after == {"a": (), "b": ("a",), "c": ("b",), "m": ("c", "b", "a")}
    assert g.writer == {A: "a", B: "b", C: "c"}


@pytest.mark.parametrize(("jobs", "message"), [
    ([_job("x", writes=(A,)), _job("y", writes=(A,))], f"table {A} has two writers: x and y"),
    ([_job("x", reads=(B,), writes=(A,)), _job("y", reads=(A,), writes=(B,))], "cycle through"),
    ([_job("x", writes=("silver.no_such_table",))], "neither a declared table nor an artifact"),
    ([_job("x"), _job("x")], "two jobs are named 'x'"),
])
def test_a_bad_graph_is_refused_when_it_is_built(jobs, message):
    with pytest.raises(GraphError, match=re.escape(message) if "cycle" not in message else message):
        Graph(jobs)


def test_unknown_layer_is_refused_at_declaration():
    with pytest.raises(GraphError, match="layer"):
        _job("x", layer="platinum")


def test_only_and_from_select_the_part_of_the_night_to_run():
    g = Graph([_job("a", writes=(A,), layer="silver"), _job("b", reads=(A,), writes=(B,), layer="qc"),
               _job("c", reads=(B,), writes=(C,)), _job("d", reads=(A,))])
    assert [s.job.name for s in g.select(only=["c"])] == ["c"] and g.select(only=["c"])[0].after == ()
    assert [s.job.name for s in g.select(start="b")] == ["b", "c"]
    assert [(s.job.name, s.after) for s in g.select(start="a")] == [("a", ()), ("b", ("a",)), ("c", ("b",)), ("d", ("a",))]
    with pytest.raises(GraphError, match="unknown job 'zz'"):
        g.select(only=["zz"])


@pytest.mark.parametrize(("scope", "day", "partitions", "text"), [
    (by_day(), date(2019, 1, 31), ["date=2019-01-31"], "date=2019-01-31 + any day whose inputs changed"),
    (by_day(timedelta(hours=24)), date(2019, 2, 1), ["date=2019-01-31", "date=2019-02-01"],
     "days 2019-01-31..2019-02-01 (lookback 1 d) + any day whose inputs changed"),
    (by_day(timedelta(days=6)), date(2019, 1, 3), [f"date={d}" for d in ("2018-12-28", "2018-12-29", "2018-12-30", "2018-12-31",
                                                                       "2019-01-01", "2019-01-02", "2019-01-03")], None),
    (day_window(3), date(2019, 3, 1), ["date=2019-02-27", "date=2019-02-28", "date=2019-03-01"], "days 2019-02-27..2019-03-01"),
    (day_window(1), date(2019, 1, 31), ["date=2019-01-31"], "date=2019-01-31"),
    (NEW_BATCHES, date(2019, 1, 31), [], "bronze batches not conformed yet"),
    (WHOLE_TABLE, date(2019, 1, 31), [], "the whole table"),
    (Scope("days", lookback=timedelta(hours=48), days=1), date(2019, 1, 31),
     ["date=2019-01-29", "date=2019-01-30", "date=2019-01-31"], None),
])
def test_scope_maps_a_run_date_to_its_partitions(scope, day, partitions, text):
    assert scope.partitions(day) == partitions
    if text is not None:
        assert scope.describe(day) == text


def test_the_platform_graph_plans_every_job_with_reads_writes_and_after():
    g = graph()
    plan = json.loads(json.dumps(g.plan(date(2019, 1, 31))))
    assert [p["name"] for p in plan] == g.order
    for item in plan:
        assert {"name", "reads", "writes", "after", "layer", "partitions", "touches"} <= set(item)
    by_name = {p["name"]: p for p in plan}
    assert by_name[names.GOLD_AQI_DAILY]["after"] == [names.SILVER_AIR_HOURLY, names.SILVER_QC_FLAGS, names.GOLD_AIR_MOVING]
    assert by_name[names.GOLD_AIR_MOVING]["lookback_hours"] == 24
    assert "ingest.cnemc-archive" in by_name[names.SILVER_AIR_HOURLY]["after"]
    # every table a job of the night writes has exactly one writer, and the registry knows it
    writers = [t for p in plan for t in p["writes"]]
    assert len(writers) == len(set(writers))
    assert all(t in names.ARTIFACTS or catalog.get(t) for t in writers)


def test_every_table_constant_is_a_declared_table_and_every_table_has_one():
    constants = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str) and v not in names.ARTIFACTS}
    assert constants == {s.fqn for s in catalog.all_tables()}
    for key, value in vars(names).items():
        if isinstance(value, str) and value in constants:
            assert key == value.replace(".", "_").upper(), key


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            out.add(id(body[0].value))
    return out


def _generated_lines(path: Path) -> range:
    """Lines of a block generated from the declarations (the Airflow DAG's job list)."""
    from pipelines.schedules import BEGIN, END

    lines = path.read_text(encoding="utf-8").splitlines()
    if BEGIN not in lines:
        return range(0)
    first = next(i for i, line in enumerate(lines, 1) if line == BEGIN)
    last = next(i for i, line in enumerate(lines, 1) if line == END)
    return range(first, last + 1)


def test_no_table_name_is_written_as_a_string_literal_outside_the_catalog():
    """Code names tables by the constants of smartmon.catalog.names; a literal (a whole string, or a
    quoted name inside SQL text) is a second place the name lives. Messages for people are free."""
    tables = {s.fqn for s in catalog.all_tables()}
    quoted = re.compile(r"'((?:bronze|silver|gold|features)\.[a-z0-9_]+)'")
    found = []
    for root in CODE:
        for path in sorted((REPO / root).rglob("*.py")):
            rel = path.relative_to(REPO)
            if rel.parts[:2] == ("smartmon", "catalog"):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skip, generated = _docstrings(tree), _generated_lines(path)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip \
                        and node.lineno not in generated:
                    if node.value in tables or any(m in tables for m in quoted.findall(node.value)):
                        found.append(f"{rel}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "table names as literals:\n" + "\n".join(found)


def test_a_graph_with_two_writers_of_a_real_table_is_refused():
    declared = graph().jobs[names.SILVER_QC_FLAGS]
    with pytest.raises(GraphError, match=f"table {names.SILVER_QC_FLAGS} has two writers"):
        Graph([declared, _job("rogue", writes=(names.SILVER_QC_FLAGS,))])
