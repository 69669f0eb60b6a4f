"""The sharing cache is pruned by the lake's retention, never under a manifest still served."""

import json
import os
import time

import pytest

from smartmon.sharing.prune import prune

DAY = 24 * 3600


def _cache(tmp_path, age_s: float):
    area = tmp_path / "cache" / "gold.aqi_daily" / "city-110100"
    area.mkdir(parents=True)
    files = {"a.parquet": b"a" * 10, "b.parquet": b"b" * 20, "zero-rows.parquet": b"z", ".tmp-dead.parquet": b"t"}
    for name, body in files.items():
        (area / name).write_bytes(body)
    rel = "_sharing/cache/gold.aqi_daily/city-110100/"
    (area / "v3.json").write_text(json.dumps([{"relpath": rel + "a.parquet"}, {"relpath": rel + "b.parquet"}]))
    (area / "v5-s2.json").write_text(json.dumps([{"relpath": rel + "b.parquet"}]))
    (area / "v5-s1.json").write_text(json.dumps([{"relpath": rel + "a.parquet"}]))
    then = time.time() - age_s
    for p in area.iterdir():
        os.utime(p, (then, then))
    return area


@pytest.mark.parametrize(
    ("age_days", "left", "removed"),
    [
        # older than the retention: only the newest manifest (v5 with stations v2) and its file stay
        (10, {"v5-s2.json", "b.parquet"}, 3),
        # within the retention: every manifest and file stays (a reader may hold their URLs);
        # only the dead temp file of a killed writer (older than an hour) goes
        (3, {"v3.json", "v5-s1.json", "v5-s2.json", "a.parquet", "b.parquet", "zero-rows.parquet"}, 1),
    ],
)
def test_prune_keeps_what_is_served_or_young(tmp_path, age_days, left, removed):
    area = _cache(tmp_path, age_days * DAY)
    stats = prune(tmp_path / "cache", retention_hours=7 * 24)
    assert {p.name for p in area.iterdir()} == left
    assert stats.files_removed == removed
    again = prune(tmp_path / "cache", retention_hours=7 * 24)  # a second run has nothing left to do
    assert (again.files_removed, again.manifests_removed) == (0, 0)


def test_newest_manifest_survives_even_when_damaged_and_old(tmp_path):
    area = _cache(tmp_path, 10 * DAY)
    (area / "v9.json").write_text("{not json")
    old = time.time() - 10 * DAY
    os.utime(area / "v9.json", (old, old))
    prune(tmp_path / "cache", retention_hours=7 * 24)
    # v9 stays (the server rebuilds a damaged manifest on next use); what it cannot vouch for goes
    assert {p.name for p in area.iterdir()} == {"v9.json"}


def test_missing_cache_is_nothing_to_do(tmp_path):
    assert prune(tmp_path / "nowhere", retention_hours=168).files_removed == 0
