"""The benchmarks' memory figure: the process tree's PSS, so pages that forked workers share
(pyspark's Python workers, Ray's object store) count once, not once per process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.common import run_traced

CHILD = """
import os, time
buf = bytearray(200 * 2**20)
for i in range(0, len(buf), 4096):
    buf[i] = 1
kids = [pid for pid in (os.fork() for _ in range(2)) if pid]  # 4 processes share the touched pages
time.sleep(1.5)
for pid in kids:
    os.waitpid(pid, 0)
"""


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="the kernel shows no smaps_rollup")
def test_a_page_four_forked_processes_share_counts_once() -> None:
    t = run_traced([sys.executable, "-c", CHILD], interval=0.1)
    assert t.peak_rss_mib > 4 * 190  # the RSS sum counts the 200 MiB in each of the 4 processes
    assert 190 < t.peak_mib < 200 + 4 * 40  # PSS: the 200 MiB once, plus each interpreter's own pages
