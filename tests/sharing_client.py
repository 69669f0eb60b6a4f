"""Run the official delta-sharing client (in its own venv, .venv-sharing) on a batch of operations.

Reads a JSON list of operations on stdin and prints one JSON list of results, so a test pays the
client's import time once. Operations:
  {"op": "tables", "profile": P}                          -> every share.schema.table listed
  {"op": "load", "profile": P, "table": "s.sch.t", "limit": N?, "version": V?}
                                                          -> the table as records (load_as_pandas)
A failure is reported as {"ok": false, "error": class, "status": HTTP status or null, "message": ...}.
"""

from __future__ import annotations

import json
import sys
import time


def _run(op: dict) -> dict:
    import delta_sharing

    if op["op"] == "tables":
        client = delta_sharing.SharingClient(op["profile"])
        return {"tables": sorted(f"{t.share}.{t.schema}.{t.name}" for t in client.list_all_tables())}
    if op["op"] == "load":
        t0 = time.perf_counter()
        df = delta_sharing.load_as_pandas(f"{op['profile']}#{op['table']}", limit=op.get("limit"), version=op.get("version"))
        seconds = time.perf_counter() - t0
        return {"columns": list(df.columns), "records": json.loads(df.to_json(orient="records", date_format="iso")),
                "seconds": seconds}
    raise ValueError(f"unknown op {op['op']!r}")


def main() -> int:
    results = []
    for op in json.load(sys.stdin):
        try:
            results.append({"ok": True, **_run(op)})
        except Exception as exc:  # reported to the test, which asserts on it
            response = getattr(exc, "response", None)
            results.append({"ok": False, "error": type(exc).__name__, "status": getattr(response, "status_code", None),
                            "message": str(exc)[:2000]})
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
