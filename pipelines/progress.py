"""The nightly's progress on the terminal: one line as each task starts and one as it ends,
with its place in the night, so a long run shows where it is (and a log shows where it stopped)."""

from __future__ import annotations

import sys
import time
from datetime import date
from types import TracebackType
from typing import TextIO

from pipelines.dag import TaskOutcome


class TaskProgress:
    """A callback for run_dag: `[ 5/43] silver.air_hourly ...` then `ok 12.3 s` on stderr."""

    def __init__(self, run_date: date, stream: TextIO | None = None) -> None:
        self.run_date = run_date
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()

    def __enter__(self) -> TaskProgress:
        self.t0 = time.monotonic()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        return None

    def __call__(self, task: str, index: int, total: int, outcome: TaskOutcome | None) -> None:
        elapsed = time.monotonic() - self.t0
        if outcome is None:
            line = f"[{index:>{len(str(total))}}/{total}] {self.run_date} {task} ... (night at {elapsed:.0f} s)"
        else:
            why = f": {outcome.error}" if outcome.error else ""
            line = f"[{index:>{len(str(total))}}/{total}] {self.run_date} {task} {outcome.status} in {outcome.seconds:.1f} s{why}"
        print(line, file=self.stream, flush=True)
