"""The job graph: every job's declaration, collected, checked and ordered.

Jobs are found, not listed: a bronze job per source adapter (jobs.bronze.adapter), and every
`JOB` / `JOBS` declared in the modules of the `jobs` and `features` packages and of the plug-in
modules (SMARTMON_PLUGINS). A job's upstream jobs are the writers of what it reads; a table
with two writers, a cycle, or a name that is neither a table nor an artifact is refused when
the graph is built. The nightly's order, `smartmon nightly --plan`, the per-job CLI, the
Airflow DAG (through `--plan --json`) and the graph in TABLES.md all come from here.
"""

from __future__ import annotations

import heapq
import importlib
import json
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property

from smartmon import catalog
from smartmon.catalog.names import ARTIFACTS, BRONZE_INGEST_BATCHES
from smartmon.errors import GraphError, TableError
from smartmon.jobspec import LAYERS, Job
from smartmon.plugins import plugin_modules, plugin_names

JOB_PACKAGES = ("jobs", "features")


def _declared(module: object) -> list[Job]:
    found = []
    for attr in ("JOB", "JOBS"):
        value = getattr(module, attr, None)
        if isinstance(value, Job):
            found.append(value)
        elif isinstance(value, (tuple, list)):
            found += [j for j in value if isinstance(j, Job)]
    return found


def _package_jobs() -> list[Job]:
    jobs: list[Job] = []
    for name in JOB_PACKAGES:
        package = importlib.import_module(name)
        for info in sorted(pkgutil.walk_packages(package.__path__, f"{name}."), key=lambda i: i.name):
            jobs += _declared(importlib.import_module(info.name))
    return jobs


def _with_feeds(job: Job) -> Job:
    """A conforming job reads the bronze tables of the adapters that feed its table."""
    from jobs.bronze.adapter import feeding

    table = job.extra.get("conforms")
    if not table:
        return job
    bronze = tuple(a.BRONZE for a in feeding(table))
    return replace(job, reads=tuple(dict.fromkeys((*bronze, BRONZE_INGEST_BATCHES, *job.reads))))


def discover() -> list[Job]:
    """Every job: one per source adapter, then the declared ones (packages, then plug-ins)."""
    from jobs.bronze.adapter import adapters
    from jobs.bronze.ingest import ingest_job

    jobs = [ingest_job(a) for a in adapters().values()]
    jobs += _package_jobs()
    for module in plugin_modules():
        jobs += _declared(module)
    return [_with_feeds(j) for j in jobs]


def _check_name(job: Job, name: str) -> None:
    if name in ARTIFACTS:
        return
    try:
        catalog.get(name)
    except TableError as exc:
        raise GraphError(f"job {job.name}: {name!r} is neither a declared table nor an artifact") from exc


@dataclass(frozen=True)
class Step:
    """A job in the graph: the declaration and the jobs it runs after."""

    job: Job
    after: tuple[str, ...]


class Graph:
    """Jobs with their inferred dependencies, in a stable topological order (by layer, then by
    the order the jobs were found)."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self.jobs = {}
        for job in jobs:
            if job.name in self.jobs:
                raise GraphError(f"two jobs are named {job.name!r}")
            self.jobs[job.name] = job
        self.writer: dict[str, str] = {}
        for job in jobs:
            for name in (*job.reads, *job.reads_earlier, *job.writes, *job.records):
                _check_name(job, name)
            for table in job.writes:
                if table in self.writer:
                    raise GraphError(f"table {table} has two writers: {self.writer[table]} and {job.name}")
                self.writer[table] = job.name
        last = [j.name for j in jobs if not j.after_all]
        self.after: dict[str, tuple[str, ...]] = {}
        for job in jobs:
            ups = last if job.after_all else [self.writer[t] for t in job.reads if t in self.writer]
            self.after[job.name] = tuple(dict.fromkeys(u for u in ups if u != job.name))
        self.order = self._order([j.name for j in jobs])

    def _order(self, found: list[str]) -> list[str]:
        rank = {name: (LAYERS.index(self.jobs[name].layer), i) for i, name in enumerate(found)}
        waiting = {name: set(self.after[name]) for name in found}
        below: dict[str, list[str]] = {name: [] for name in found}
        for name, ups in waiting.items():
            for u in ups:
                below[u].append(name)
        ready = [(rank[n], n) for n, ups in waiting.items() if not ups]
        heapq.heapify(ready)
        out: list[str] = []
        while ready:
            _, name = heapq.heappop(ready)
            out.append(name)
            for d in below[name]:
                waiting[d].discard(name)
                if not waiting[d]:
                    heapq.heappush(ready, (rank[d], d))
        if len(out) < len(found):
            raise GraphError(f"the job graph has a cycle through {self._cycle(waiting)}")
        return out

    def _cycle(self, waiting: dict[str, set[str]]) -> str:
        start = next(n for n, ups in waiting.items() if ups)
        path, node = [start], next(iter(waiting[start]))
        while node not in path:
            path.append(node)
            node = next(iter(waiting[node]))
        cycle = path[path.index(node):] + [node]
        return " <- ".join(cycle)

    @cached_property
    def steps(self) -> list[Step]:
        return [Step(self.jobs[n], self.after[n]) for n in self.order]

    def upstream(self, name: str) -> set[str]:
        """Every job `name` runs after, directly or not."""
        out: set[str] = set()
        todo = [name]
        while todo:
            for u in self.after[todo.pop()]:
                if u not in out:
                    out.add(u)
                    todo.append(u)
        return out

    def downstream(self, name: str) -> set[str]:
        out, todo = {name}, [name]
        while todo:
            n = todo.pop()
            for m, ups in self.after.items():
                if n in ups and m not in out:
                    out.add(m)
                    todo.append(m)
        return out

    def select(self, only: Iterable[str] = (), start: str | None = None) -> list[Step]:
        """The steps to run: the named jobs alone (only), or a job and everything downstream of it
        (start), or all; dependencies on jobs left out are dropped (they ran before)."""
        only = list(only)
        for name in [*only, *([start] if start else [])]:
            if name not in self.jobs:
                raise GraphError(f"unknown job {name!r}; `smartmon nightly --plan` lists them")
        keep = set(only) if only else (self.downstream(start) if start else set(self.jobs))
        return [Step(s.job, tuple(a for a in s.after if a in keep)) for s in self.steps if s.job.name in keep]

    def plan(self, run_date: date | None = None, steps: Sequence[Step] | None = None) -> list[dict[str, object]]:
        """One dict per step, in order: what `--plan --json` prints and the Airflow DAG reads."""
        out = []
        for s in steps if steps is not None else self.steps:
            j = s.job
            item: dict[str, object] = {
                "name": j.name, "layer": j.layer, "reads": list(j.reads), "writes": list(j.writes),
                "after": list(s.after), "records": list(j.records), "reads_earlier": list(j.reads_earlier),
                "scope": j.scope.grain,
                "lookback_hours": int(j.scope.lookback.total_seconds() // 3600), "retries": j.retries, "doc": j.doc,
            }
            if run_date is not None:
                item["date"] = run_date.isoformat()
                item["partitions"] = j.scope.partitions(run_date)
                item["touches"] = j.scope.describe(run_date)
            out.append(item)
        return out

    def plan_text(self, run_date: date | None, steps: Sequence[Step] | None = None) -> str:
        lines = []
        for i, item in enumerate(self.plan(run_date, steps), start=1):
            lines.append(f"{i:2d}. {item['name']}  [{item['layer']}]")
            lines.append(f"      reads   {', '.join(item['reads']) or '-'}")  # type: ignore[arg-type]
            lines.append(f"      writes  {', '.join(item['writes']) or '-'}")  # type: ignore[arg-type]
            if self.jobs[str(item["name"])].after_all:
                lines.append("      after   every other job of the night")
            elif item["after"]:
                lines.append(f"      after   {', '.join(item['after'])}")  # type: ignore[arg-type]
            if run_date is not None:
                lines.append(f"      touches {item['touches']}")
        return "\n".join(lines)

    def mermaid(self) -> str:
        """The graph as a Mermaid flowchart: jobs grouped by layer, an arrow per dependency."""
        ids = {name: f"j{i}" for i, name in enumerate(self.order)}
        out = ["flowchart LR"]
        for layer in LAYERS:
            names = [n for n in self.order if self.jobs[n].layer == layer]
            if not names:
                continue
            out.append(f"  subgraph {layer}")
            out += [f'    {ids[n]}["{n}"]' for n in names]
            out.append("  end")
        for n in self.order:
            if self.jobs[n].after_all:
                continue
            out += [f"  {ids[u]} --> {ids[n]}" for u in self.after[n]]
        return "\n".join(out)


_GRAPHS: dict[tuple[str, ...], Graph] = {}


def graph() -> Graph:
    """The platform's job graph (built once per set of plug-ins)."""
    key = plugin_names()
    if key not in _GRAPHS:
        _GRAPHS[key] = Graph(discover())
    return _GRAPHS[key]


def plan_json(run_date: date | None = None, steps: Sequence[Step] | None = None) -> str:
    return json.dumps(graph().plan(run_date, steps), indent=1, ensure_ascii=False)
