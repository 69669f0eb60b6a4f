"""One rule, one place: no import cycles, and the rules that were once copied stay in their module.

Static checks over the source (ast and text, no imports, no Spark), so they run in well under a
second and name the file and line of every offence:
- the import graph of smartmon, jobs, pipelines, features, experiments, infra and bench has no
  cycle, counting imports inside functions as well as at module level (a function-level import
  that closes a cycle only hides it until someone moves the import up);
- the Earth radius lives only in smartmon/geo/distance.py;
- Beijing time is converted only in smartmon/beijing_time.py: no fixed +8 h offsets, no
  fixed-offset time zones, no from_utc_timestamp/to_utc_timestamp or "Asia/Shanghai" elsewhere;
- the HJ 633 combination of IAQIs into the AQI and primary pollutant lives only in
  smartmon/standards/aqi.py, and both gold AQI jobs take it from there.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("smartmon", "jobs", "pipelines", "features", "experiments", "infra", "bench")
DISTANCE_MODULE = "smartmon/geo/distance.py"
BEIJING_MODULE = "smartmon/beijing_time.py"
AQI_MODULE = "smartmon/standards/aqi.py"
# The Airflow DAG is parsed by the Airflow scheduler, which need not have smartmon installed, so
# it names the zone itself (it converts nothing: Airflow schedules in that zone).
ZONE_NAME_ALLOWED = {BEIJING_MODULE, "infra/schedules/airflow_nightly.py"}


@cache
def sources() -> dict[str, Path]:
    """Module name -> file, for every .py file under the packages (namespace dirs included)."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


@cache
def tree(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise AssertionError(f"{path.relative_to(ROOT)} does not parse") from exc


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ------------------------------------------------------------------------------ import graph
def imports_of(name: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """Project modules `name` imports anywhere in its file -> first line. `from X import Y` is an
    import of X.Y when that is a module, else of X (Y is a name X defines)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: dict[str, int] = {}
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]
        else:
            continue
        for target in targets:
            if target in modules and target != name:
                found.setdefault(target, node.lineno)
    return found


def import_graph() -> dict[str, dict[str, int]]:
    modules = sources()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One shortest cycle through each strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(start: str) -> None:  # Tarjan, iterative (no recursion limit on long chains)
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, targets = work[-1]
            w = next(targets, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    components.append(comp)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    out = []
    for comp in components:
        start = min(comp)
        paths = {start: [start]}
        queue = [start]
        while queue:  # breadth first inside the component, back to start
            v = queue.pop(0)
            for w in sorted(graph[v]):
                if w == start:
                    queue = []
                    out.append([*paths[v], start])
                    break
                if w in comp and w not in paths:
                    paths[w] = [*paths[v], w]
                    queue.append(w)
    return out


def test_the_graph_walk_sees_imports_inside_functions_and_submodules(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    files = {name: tmp_path / f"{name.replace('.', '/')}.py" for name in ("pkg.a", "pkg.b", "pkg.c", "top")}
    files["pkg"] = tmp_path / "pkg" / "__init__.py"
    files["pkg"].write_text("from .a import thing\n")
    files["pkg.a"].write_text("import top\n\ndef f():\n    from pkg import b\n    from . import c\n")
    files["pkg.b"].write_text("from pkg.c import name\nfrom os import path\n")
    files["pkg.c"].write_text("")
    files["top"].write_text("def g():\n    import pkg.b as alias\n")
    got = {name: set(imports_of(name, path, files)) for name, path in files.items()}
    assert got == {"pkg": {"pkg.a"}, "pkg.a": {"top", "pkg.b", "pkg.c"}, "pkg.b": {"pkg.c"}, "pkg.c": set(), "top": {"pkg.b"}}
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1, "d": 1}, "d": {}}) == [["a", "b", "c", "a"]]
    graph = import_graph()  # and on the code base: a submodule imported by `from package import module`
    assert "smartmon.upwind" in graph["jobs.gold.upwind"] and "smartmon.geo.distance" in graph["smartmon.upwind"]


def test_no_import_cycles() -> None:
    graph = import_graph()
    found = cycles(graph)
    lines = [" -> ".join(f"{a} ({rel(sources()[a])}:{graph[a][b]})" for a, b in zip(c, c[1:], strict=False)) + f" -> {c[-1]}"
             for c in found]
    assert not found, "import cycles:\n" + "\n".join(lines)


# --------------------------------------------------------------------------- one place each
def code_files(*skip: str) -> Iterator[Path]:
    for path in sources().values():
        if rel(path) not in skip:
            yield path


def test_the_earth_radius_is_written_only_in_the_distance_module() -> None:
    found = [f"{rel(p)}:{n}" for p in code_files(DISTANCE_MODULE)
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "6371" in line]
    assert not found, f"Earth radius outside {DISTANCE_MODULE} (import EARTH_RADIUS_KM / distance_km): {found}"
    assert "6371" in (ROOT / DISTANCE_MODULE).read_text(encoding="utf-8")


def _number(node: ast.AST) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _number(node.operand)
        return -v if v is not None else None
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, int | float) else None


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def fixed_beijing_offsets(t: ast.Module, where: str) -> list[str]:
    """Lines of module `t` (file `where`) that convert with a fixed +8 h instead of the zone:
    timedelta/Timedelta of (-)8 hours, 28,800 seconds, a fixed-offset timezone(...), SQL
    INTERVAL 8 HOURS, and Spark's zone conversions or the zone name outside beijing_time."""
    out = []
    timeouts = {id(k.value) for node in ast.walk(t) if isinstance(node, ast.Call) for k in node.keywords
                if k.arg and "timeout" in k.arg}  # a duration such as Airflow's execution_timeout, not an offset
    for node in ast.walk(t):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in ("timedelta", "Timedelta", "DateOffset") and id(node) not in timeouts:
                hours = [_number(k.value) for k in node.keywords if k.arg == "hours"]
                seconds = [_number(k.value) for k in node.keywords if k.arg == "seconds"]
                text = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if any(h in (8, -8) for h in hours) or any(s in (28800, -28800) for s in seconds) or any(
                        re.fullmatch(r"\s*-?8\s*h(ours?)?\s*", s) for s in text):
                    out.append(f"{where}:{node.lineno} {ast.unparse(node)}")
            elif name == "timezone" and node.args:
                out.append(f"{where}:{node.lineno} fixed-offset {ast.unparse(node)}")
            elif name in ("from_utc_timestamp", "to_utc_timestamp"):
                out.append(f"{where}:{node.lineno} {name} (use smartmon.beijing_time)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            s = node.value
            if re.search(r"INTERVAL\s+'?-?8'?\s+HOURS?\b", s, re.I) or re.search(r"\b(from|to)_utc_timestamp\s*\(", s):
                out.append(f"{where}:{node.lineno} SQL {s.strip()[:60]!r}")
            if "Asia/Shanghai" in s and where not in ZONE_NAME_ALLOWED:
                out.append(f"{where}:{node.lineno} zone name (use smartmon.beijing_time.ZONE / BEIJING)")
    return out


def test_the_beijing_module_loads_without_spark_or_pandas() -> None:
    """Spark-free processes (the HJ 212 receiver) must be able to take the zone from here."""
    top = [n for n in tree(ROOT / BEIJING_MODULE).body if isinstance(n, ast.Import | ast.ImportFrom)]
    roots = {a.name.split(".")[0] for n in top if isinstance(n, ast.Import) for a in n.names}
    roots |= {(n.module or "").split(".")[0] for n in top if isinstance(n, ast.ImportFrom)}
    assert not roots & {"pandas", "pyspark", "numpy"}, roots


def test_beijing_time_is_converted_only_in_its_module() -> None:
    found = [hit for p in code_files(BEIJING_MODULE) for hit in fixed_beijing_offsets(tree(p), rel(p))]
    assert not found, "Beijing time converted outside smartmon/beijing_time.py:\n" + "\n".join(found)


@pytest.mark.parametrize("snippet", [
    "x = t + timedelta(hours=8)", "x = ts - pd.Timedelta(hours=-8)", "Z = timezone(timedelta(hours=8))",
    "e = d + timedelta(days=1, hours=-8)", "x = pd.Timedelta('8h')", "q = \"ts + INTERVAL 8 HOURS\"",
    "c = F.from_utc_timestamp(ts, 'UTC')", "z = 'Asia/Shanghai'", "x = t + timedelta(seconds=28800)",
])
def test_the_offset_check_finds_the_old_forms(snippet: str) -> None:
    assert fixed_beijing_offsets(ast.parse(snippet), "smartmon/probe.py")


def test_the_offset_check_leaves_durations_alone() -> None:
    code = "op = Op(execution_timeout=timedelta(hours=8))\nwindow = timedelta(hours=24)\nnow = datetime.now(timezone.utc)"
    assert fixed_beijing_offsets(ast.parse(code), "smartmon/probe.py") == []


def aqi_combinations(t: ast.Module, where: str) -> list[str]:
    """Places in module `t` (file `where`) that combine IAQIs themselves: a greatest()/max()
    over IAQIs, or the primary pollutant's AQI > 50 test."""
    out = []
    for node in ast.walk(t):
        if isinstance(node, ast.Call) and _call_name(node) in ("greatest", "max") and "iaqi" in ast.unparse(node).lower():
            out.append(f"{where}:{node.lineno} {ast.unparse(node)[:80]}")
        elif isinstance(node, ast.Compare) and len(node.comparators) == 1:
            sides = (node.left, node.comparators[0])
            if any(_number(s) == 50 for s in sides) and any("aqi" in ast.unparse(s).lower() for s in sides):
                out.append(f"{where}:{node.lineno} {ast.unparse(node)[:80]}")
    return out


def test_the_hj633_combination_lives_only_in_standards_aqi() -> None:
    found = [hit for p in code_files(AQI_MODULE) for hit in aqi_combinations(tree(p), rel(p))]
    assert not found, f"IAQIs combined outside {AQI_MODULE} (use combine / combine_columns):\n" + "\n".join(found)
    assert aqi_combinations(tree(ROOT / AQI_MODULE), AQI_MODULE), "the check no longer sees the rule in its own module"
    for job in ("jobs/gold/aqi_hourly.py", "jobs/gold/aqi_daily.py"):
        imported = {a.name for node in ast.walk(tree(ROOT / job)) if isinstance(node, ast.ImportFrom)
                    and node.module == "smartmon.standards.aqi" for a in node.names}
        assert "combine_columns" in imported, f"{job} must take the combination from {AQI_MODULE}"
