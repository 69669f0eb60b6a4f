"""Where bronze stages a large parsed batch, and that a killed ingest's staging folder goes."""

import dataclasses
import os
import time

import pytest

from jobs.bronze.handoff import prune_stale, stage_root
from smartmon import config


@pytest.mark.parametrize(
    ("master", "lake", "staged"),
    [
        ("local[*]", "/data/lake", True),
        ("local[2]", "file:///data/lake", True),
        ("spark://10.0.0.1:7077", "/data/lake", False),  # executors elsewhere cannot read the driver's disk
        ("local[*]", "s3a://smartmon-lake/lake", False),
    ],
)
def test_stage_root_only_where_the_driver_disk_is_the_executors(master, lake, staged):
    cfg = dataclasses.replace(config.settings(), spark_master=master, lake=lake)
    root = stage_root(cfg)
    assert (root is not None) == staged
    if staged:
        assert str(root) == "/data/lake/_staging"


def test_prune_stale_removes_only_day_old_folders(tmp_path):
    root = tmp_path / "_staging"
    old, live = root / "old", root / "live"
    for d in (old, live):
        d.mkdir(parents=True)
        (d / "part-00000.parquet").write_bytes(b"x")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    assert prune_stale(root) == 1
    assert not old.exists() and live.exists()
    assert prune_stale(root) == 0
    assert prune_stale(tmp_path / "missing") == 0
