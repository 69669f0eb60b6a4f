"""Render the table registry and the job graph for people: `smartmon tables` and TABLES.md."""

from __future__ import annotations

from pipelines.definitions import graph
from smartmon import catalog

HEADER = """# smartmon tables

Generated from the table registry (`smartmon tables --markdown > TABLES.md`, or `make tables-doc`);
a test fails when this file is out of date. Tables are Delta tables at `<lake>/<layer>/<table>`,
readable by Spark, delta-rs (`deltalake`), Polars and DuckDB. Silver, gold and features tables have change
data feed on; no table uses deletion vectors, type widening or identity columns, so delta-rs reads
them all. Times are UTC instants unless a column says otherwise.
"""


def catalog_text() -> str:
    lines = []
    for spec in catalog.all_tables():
        keys = ", ".join(spec.keys) or "-"
        parts = f" partitioned by {', '.join(spec.partition_by)}" if spec.partition_by else ""
        lines.append(f"{spec.fqn:28s} keys: {keys}{parts}")
        lines.append(f"    {spec.description}")
        lines.append(f"    columns: {', '.join(f'{c.name} {c.type}' for c in spec.columns)}")
    return "\n".join(lines)


def graph_markdown() -> str:
    """The job graph (`smartmon nightly --plan` in pictures): who writes and who reads each table."""
    return (
        "\n## The job graph\n\n"
        "Every job of the night, grouped by layer, with an arrow from each job to the jobs that read what "
        "it writes (inferred from the declarations, `pipelines/definitions.py`; `smartmon nightly --plan` "
        "prints the same with the partitions a date touches). Maintenance runs after every other job.\n\n"
        f"```mermaid\n{graph().mermaid()}\n```\n"
    )


def _roles() -> dict[str, tuple[str | None, list[str]]]:
    g = graph()
    readers: dict[str, list[str]] = {}
    for name in g.order:
        for table in g.jobs[name].reads:
            readers.setdefault(table, []).append(name)
        for table in g.jobs[name].reads_earlier:  # as earlier nights left it
            readers.setdefault(table, []).append(f"{name} (earlier nights')")
    return {t: (g.writer.get(t), readers.get(t, [])) for t in {*g.writer, *readers}}


def catalog_markdown() -> str:
    out = [HEADER, graph_markdown()]
    roles = _roles()
    for layer in catalog.LAYERS:
        specs = [s for s in catalog.all_tables() if s.layer == layer]
        if not specs:
            continue
        out.append(f"\n## {layer}\n")
        for spec in specs:
            out.append(f"\n### `{spec.fqn}`\n\n{spec.description}\n")
            out.append(f"- keys: {', '.join(f'`{k}`' for k in spec.keys) or '(none: append-only)'}")
            if spec.partition_by:
                out.append(f"- partitioned by: {', '.join(f'`{p}`' for p in spec.partition_by)}")
            if spec.zorder:
                out.append(f"- Z-ordered by (maintenance job): {', '.join(f'`{z}`' for z in spec.zorder)}")
            writer, readers = roles.get(spec.fqn, (None, []))
            out.append(f"- written by: {f'`{writer}`' if writer else '(no job of the night: a command or a run log)'}")
            if readers:
                out.append(f"- read by: {', '.join(f'`{r}`' for r in readers)}")
            props = ", ".join(f"`{k}={v}`" for k, v in sorted(spec.properties.items()))
            out.append(f"- properties: {props}\n")
            out.append("| column | type | null | meaning |\n|---|---|---|---|")
            for c in spec.columns:
                out.append(f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {c.doc} |")
    return "\n".join(out) + "\n"
