"""Tier-scoped Delta Sharing, end to end with the official `delta-sharing` client over loopback.

A small real Delta lake is written with delta-rs (no Spark): stations in Beijing (11), Tianjin (12)
and Hebei (13), daily AQI rows for them and for a station the registry does not know, region
rows at every tier, and an H3 table that cannot be placed in any area. The server runs in a
thread on a free port; the official client runs in its own environment (.venv-sharing, as a
downstream platform would) and reads every table as each recipient.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from smartmon.sharing.access_log import read_log
from smartmon.sharing.areas import parse_area
from smartmon.sharing.provider import Provider
from smartmon.sharing.prune import prune
from smartmon.sharing.recipients import write_profile
from smartmon.sharing.server import PREFIX, create_app, running
from smartmon.sharing.shares import load_shares

REPO = Path(__file__).resolve().parents[2]
CLIENT_PY = REPO / ".venv-sharing" / "bin" / "python"
CLIENT_SCRIPT = REPO / "tests" / "sharing_client.py"

STATIONS = [  # station_id, province, city, county
    ("1001A", "110000", "110100", "110101"),
    ("1002A", "110000", "110100", "110105"),
    ("1003A", "110000", "110100", None),  # county unknown: placed in its city, not in any county
    ("1051A", "120000", "120100", "120101"),
    ("1080A", "130000", "130100", "130102"),
    ("1081A", "130000", "130100", "130104"),
    ("1090A", "130000", "130200", "130202"),
    ("X999", None, None, None),  # in the registry without codes: unplaced
]
UNKNOWN_STATION = "ZZZ1"  # not in the registry at all: unplaced
DAYS = [date(2019, 1, 30), date(2019, 1, 31), date(2019, 2, 1)]
REGION_CODES = [("nation", "000000"), ("province", "110000"), ("province", "120000"), ("province", "130000"),
                ("city", "110100"), ("city", "120100"), ("city", "130100"), ("city", "130200"),
                ("county", "110101"), ("county", "110105"), ("county", "120101"), ("county", "130102"),
                ("county", "130104"), ("county", "130202")]
SHARES_YAML = """
shares:
  - name: monitoring
    comment: test share
    tables: [silver.stations, gold.aqi_daily, gold.region_daily, gold.hex_daily, gold.water_class]
  - name: research
    tables: [gold.hex_daily]
"""


def _codes(station: str) -> tuple[str | None, str | None, str | None]:
    return next(((p, c, k) for s, p, c, k in STATIONS if s == station), (None, None, None))


def _finest(station: str) -> str | None:
    p, c, k = _codes(station)
    return k or c or p


def _build_lake(lake: Path) -> None:
    ids = [s[0] for s in STATIONS]
    stations = pa.table({"station_id": ids, "name": [f"station {i}" for i in ids], "tier": ["national"] * len(ids),
                         "province_code": [s[1] for s in STATIONS], "city_code": [s[2] for s in STATIONS],
                         "county_code": [s[3] for s in STATIONS]})
    write_deltalake(str(lake / "silver" / "stations"), stations.slice(0, 4))
    write_deltalake(str(lake / "silver" / "stations"), stations.slice(4), mode="append")  # two files
    aqi_ids = [*ids, UNKNOWN_STATION]
    rows = [(s, d) for s in aqi_ids for d in DAYS]
    write_deltalake(str(lake / "gold" / "aqi_daily"), pa.table({
        "station_id": [s for s, _ in rows], "day": pa.array([d for _, d in rows], pa.date32()),
        "month": [f"{d:%Y-%m}" for _, d in rows], "aqi": pa.array(range(len(rows)), pa.int32()),
        "category": ["良"] * len(rows)}), partition_by=["month"])
    regions = [(s, c, d) for s, c in REGION_CODES for d in (DAYS[0], DAYS[2])]
    write_deltalake(str(lake / "gold" / "region_daily"), pa.table({
        "scope": [s for s, _, _ in regions], "code": [c for _, c, _ in regions],
        "day": pa.array([d for _, _, d in regions], pa.date32()), "pollutant": ["pm25"] * len(regions),
        "value": [float(i) for i in range(len(regions))], "month": [f"{d:%Y-%m}" for _, _, d in regions]}),
        partition_by=["month"])
    write_deltalake(str(lake / "gold" / "hex_daily"), pa.table({
        "resolution": pa.array([5, 5, 7, 7], pa.int32()), "cell": pa.array([1, 2, 3, 4], pa.int64()),
        "day": pa.array([DAYS[0]] * 4, pa.date32()), "value": [1.0, 2.0, 3.0, 4.0]}))
    write_deltalake(str(lake / "gold" / "water_class"), pa.table({
        "station_id": ["1001A", "1051A"], "period": ["2019-01", "2019-01"], "water_class": pa.array([2, 3], pa.int32())}))


def _call(url: str, method: str = "GET", token: str | None = None, body: dict | None = None) -> tuple[int, dict, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture(scope="module")
def sharing(tmp_path_factory: pytest.TempPathFactory):
    """The lake, the provider with its recipients, and the server running on a free loopback port."""
    root = tmp_path_factory.mktemp("sharing")
    lake = root / "lake"
    _build_lake(lake)
    (root / "shares.yaml").write_text(SHARES_YAML)
    provider = Provider(lake, load_shares(root / "shares.yaml"))
    store = provider.recipients
    tokens = {
        "nation": store.add("nmc", parse_area("nation", None), ["monitoring", "research"])[1],
        "beijing": store.add("beijing", parse_area("province", "110000"), ["monitoring"])[1],
        "shijiazhuang": store.add("shijiazhuang", parse_area("city", "130100"), ["monitoring"],
                                  ["gold.aqi_daily", "gold.region_daily", "gold.water_class"])[1],
        "dongcheng": store.add("dongcheng", parse_area("county", "110101"), ["monitoring"])[1],
        "hebei": store.add("hebei", parse_area("province", "130000"), ["monitoring"])[1],
        "revoked": store.add("gone", parse_area("province", "120000"), ["monitoring"])[1],
    }
    store.revoke("gone")
    with running(create_app(provider)) as base:
        endpoint = base + PREFIX
        profiles = {name: write_profile(root / f"{name}.share", endpoint, tok) for name, tok in tokens.items()}
        profiles["bad"] = write_profile(root / "bad.share", endpoint, "not-a-token")
        yield {"provider": provider, "lake": lake, "base": base, "endpoint": endpoint, "tokens": tokens,
               "profiles": profiles, "root": root}


CLIENT_OPS = {  # name -> (profile, op, table, extra)
    "tables_nation": ("nation", "tables", None, {}),
    "tables_beijing": ("beijing", "tables", None, {}),
    "tables_shijiazhuang": ("shijiazhuang", "tables", None, {}),
    **{f"{who}_{t}": (who, "load", f"monitoring.{t}", {})
       for who in ("nation", "beijing", "shijiazhuang", "dongcheng", "hebei")
       for t in ("silver.stations", "gold.aqi_daily", "gold.region_daily", "gold.hex_daily")},
    "nation_research_hex": ("nation", "load", "research.gold.hex_daily", {}),
    "beijing_research_hex": ("beijing", "load", "research.gold.hex_daily", {}),
    "beijing_unknown_table": ("beijing", "load", "monitoring.gold.no_such_table", {}),
    "nation_limit": ("nation", "load", "monitoring.gold.aqi_daily", {"limit": 2}),
    "bad_token": ("bad", "load", "monitoring.gold.aqi_daily", {}),
    "bad_token_list": ("bad", "tables", None, {}),
    "revoked_token": ("revoked", "load", "monitoring.gold.aqi_daily", {}),
}


@pytest.fixture(scope="module")
def client_results(sharing) -> dict[str, dict]:
    """Every client operation, run in one process of the official client."""
    if not CLIENT_PY.exists():
        pytest.skip(f"the official delta-sharing client is not installed: {CLIENT_PY} is missing "
                    "(`make sharing-client` creates it: python3.11 -m venv .venv-sharing && .venv-sharing/bin/pip install delta-sharing==1.4.2)")
    names = list(CLIENT_OPS)
    ops = [{"op": op, "profile": str(sharing["profiles"][who]), **({"table": t} if t else {}), **extra}
           for who, op, t, extra in (CLIENT_OPS[n] for n in names)]
    t0 = time.perf_counter()
    proc = subprocess.run([str(CLIENT_PY), str(CLIENT_SCRIPT)], input=json.dumps(ops), capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": ""})
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = dict(zip(names, json.loads(proc.stdout), strict=True))
    results["_seconds"] = {"total": time.perf_counter() - t0}
    return results


def _records(results: dict, name: str) -> list[dict]:
    r = results[name]
    assert r["ok"], f"{name}: {r}"
    return r["records"]


# ---------------------------------------------------------------------------------- listing
def test_listing_shows_each_recipient_what_it_may_read(client_results):
    assert client_results["tables_nation"]["tables"] == [
        "monitoring.gold.aqi_daily", "monitoring.gold.hex_daily", "monitoring.gold.region_daily",
        "monitoring.gold.water_class", "monitoring.silver.stations", "research.gold.hex_daily"]
    # hex_daily is national only, so it is not listed for a province
    assert client_results["tables_beijing"]["tables"] == [
        "monitoring.gold.aqi_daily", "monitoring.gold.region_daily", "monitoring.gold.water_class",
        "monitoring.silver.stations"]
    assert client_results["tables_shijiazhuang"]["tables"] == [
        "monitoring.gold.aqi_daily", "monitoring.gold.region_daily", "monitoring.gold.water_class"]


# ---------------------------------------------------------------------------------- rows by area
def test_national_recipient_sees_every_row(client_results):
    assert len(_records(client_results, "nation_silver.stations")) == len(STATIONS)
    aqi = _records(client_results, "nation_gold.aqi_daily")
    assert len(aqi) == (len(STATIONS) + 1) * len(DAYS)
    assert UNKNOWN_STATION in {r["station_id"] for r in aqi} and "X999" in {r["station_id"] for r in aqi}
    assert len(_records(client_results, "nation_gold.region_daily")) == len(REGION_CODES) * 2
    assert len(_records(client_results, "nation_gold.hex_daily")) == 4
    assert len(_records(client_results, "nation_research_hex")) == 4


@pytest.mark.parametrize(("who", "prefix", "stations", "codes"), [
    ("beijing", "11", {"1001A", "1002A", "1003A"}, {"110000", "110100", "110101", "110105"}),
    ("hebei", "13", {"1080A", "1081A", "1090A"}, {"130000", "130100", "130200", "130102", "130104", "130202"}),
    ("shijiazhuang", "1301", {"1080A", "1081A"}, {"130100", "130102", "130104"}),
    ("dongcheng", "110101", {"1001A"}, {"110101"}),
])
def test_scoped_recipient_sees_exactly_its_area(client_results, who, prefix, stations, codes):
    aqi = _records(client_results, f"{who}_gold.aqi_daily")
    assert {r["station_id"] for r in aqi} == stations
    assert len(aqi) == len(stations) * len(DAYS)
    assert all(_finest(r["station_id"]).startswith(prefix) for r in aqi)
    assert {r["month"] for r in aqi} == {"2019-01", "2019-02"}  # partition values come back
    regions = _records(client_results, f"{who}_gold.region_daily")
    assert {r["code"] for r in regions} == codes
    assert len(regions) == len(codes) * 2
    assert "000000" not in {r["code"] for r in regions}  # the national aggregate is the nation's
    if who != "shijiazhuang":  # not granted silver.stations
        assert {r["station_id"] for r in _records(client_results, f"{who}_silver.stations")} == stations


def test_a_province_sees_none_of_another_provinces_rows(client_results):
    beijing = _records(client_results, "beijing_gold.aqi_daily") + _records(client_results, "beijing_gold.region_daily")
    for r in beijing:
        code = r.get("code") or _finest(r["station_id"])
        assert code.startswith("11") and not code.startswith(("12", "13"))
    hebei = {r["station_id"] for r in _records(client_results, "hebei_gold.aqi_daily")}
    assert not hebei & {"1001A", "1002A", "1003A", "1051A"}


def test_limit_is_applied(client_results):
    assert len(_records(client_results, "nation_limit")) == 2


# ---------------------------------------------------------------------------------- refusals
def test_bad_or_revoked_token_gets_401_from_the_client(client_results):
    for name in ("bad_token", "bad_token_list", "revoked_token"):
        r = client_results[name]
        assert not r["ok"] and r["error"] == "HTTPError" and r["status"] == 401, r
    assert "UNAUTHENTICATED" in client_results["bad_token"]["message"]
    assert "revoked" in client_results["revoked_token"]["message"]


def test_tables_not_shared_are_refused(client_results):
    for name in ("beijing_gold.hex_daily", "dongcheng_gold.hex_daily"):  # national only
        r = client_results[name]
        assert (r["ok"], r["status"]) == (False, 403) and "national recipients only" in r["message"], r
    r = client_results["shijiazhuang_silver.stations"]  # in the share, not granted
    assert (r["ok"], r["status"]) == (False, 403) and "not granted" in r["message"], r
    r = client_results["beijing_research_hex"]  # share not granted
    assert (r["ok"], r["status"]) == (False, 403) and "not shared with recipient beijing" in r["message"], r
    r = client_results["beijing_unknown_table"]
    assert (r["ok"], r["status"]) == (False, 404), r


def test_http_errors_carry_the_protocol_error_body(sharing):
    ep, tok = sharing["endpoint"], sharing["tokens"]
    cases = [
        (f"{ep}/shares", None, 401, "UNAUTHENTICATED"),
        (f"{ep}/shares", "wrong", 401, "UNAUTHENTICATED"),
        (f"{ep}/shares", tok["revoked"], 401, "UNAUTHENTICATED"),
        (f"{ep}/shares/research", tok["beijing"], 403, "PERMISSION_DENIED"),
        (f"{ep}/shares/nope", tok["beijing"], 404, "RESOURCE_DOES_NOT_EXIST"),
        (f"{ep}/shares/monitoring/schemas/gold/tables/hex_daily/version", tok["beijing"], 403, "PERMISSION_DENIED"),
        (f"{ep}/shares/monitoring/schemas/features/tables", tok["beijing"], 404, "RESOURCE_DOES_NOT_EXIST"),
        (f"{ep}/shares?maxResults=-1", tok["beijing"], 400, "INVALID_PARAMETER_VALUE"),
        (f"{ep}/no/such/route", tok["beijing"], 404, "RESOURCE_DOES_NOT_EXIST"),
    ]
    for url, token, status, code in cases:
        got, headers, body = _call(url, token=token)
        assert got == status, (url, got, body)
        err = json.loads(body)
        assert err["errorCode"] == code and err["message"], (url, err)
        assert headers["content-type"].startswith("application/json")


def test_protocol_endpoints_in_process(sharing):
    ep, tok = sharing["endpoint"], sharing["tokens"]["beijing"]
    status, _, body = _call(f"{ep}/shares", token=tok)
    assert status == 200 and [s["name"] for s in json.loads(body)["items"]] == ["monitoring"]
    status, _, body = _call(f"{ep}/shares/monitoring/schemas", token=tok)
    assert [s["name"] for s in json.loads(body)["items"]] == ["silver", "gold"]
    status, _, body = _call(f"{ep}/shares/monitoring/all-tables?maxResults=2", token=tok)
    page = json.loads(body)
    assert len(page["items"]) == 2 and page["nextPageToken"]
    status, _, body = _call(f"{ep}/shares/monitoring/all-tables?maxResults=2&pageToken={page['nextPageToken']}", token=tok)
    assert len(json.loads(body)["items"]) == 2 and "nextPageToken" not in json.loads(body)
    table = f"{ep}/shares/monitoring/schemas/gold/tables/aqi_daily"
    for method in ("GET", "HEAD"):
        status, headers, _ = _call(table + "/version", method=method, token=tok)
        assert status == 200 and headers["delta-table-version"] == "0"
    status, headers, body = _call(table + "/metadata", token=tok)
    protocol, meta = (json.loads(x) for x in body.decode().splitlines())
    assert protocol == {"protocol": {"minReaderVersion": 1}} and headers["content-type"].startswith("application/x-ndjson")
    assert meta["metaData"]["partitionColumns"] == ["month"] and meta["metaData"]["format"] == {"provider": "parquet"}
    fields = {f["name"] for f in json.loads(meta["metaData"]["schemaString"])["fields"]}
    assert fields == {"station_id", "day", "month", "aqi", "category"}
    status, _, body = _call(table + "/query", method="POST", token=tok, body={"version": 0})
    lines = [json.loads(x) for x in body.decode().splitlines()]
    files = [x["file"] for x in lines[2:]]
    assert status == 200 and len(files) == 2 and sum(json.loads(f["stats"])["numRecords"] for f in files) == 9
    assert all(f["version"] == 0 for f in files) and lines[1]["metaData"]["version"] == 0
    status, _, body = _call(table + "/query", method="POST", token=tok, body={"startingVersion": 0})
    assert status == 400 and json.loads(body)["errorCode"] == "INVALID_PARAMETER_VALUE"
    status, _, body = _call(table + "/query", method="POST", token=tok, body={"version": 99})
    assert status == 400 and "version 99" in json.loads(body)["message"]


# ---------------------------------------------------------------------------------- signed file URLs
def _file_urls(sharing, who: str, table: str = "aqi_daily") -> list[str]:
    url = f"{sharing['endpoint']}/shares/monitoring/schemas/gold/tables/{table}/query"
    status, _, body = _call(url, method="POST", token=sharing["tokens"][who], body={})
    assert status == 200, body
    return [json.loads(x)["file"]["url"] for x in body.decode().splitlines()[2:]]


def _with(url: str, **changes: str) -> str:
    u = urlparse(url)
    q = {k: v[0] for k, v in parse_qs(u.query).items()} | changes
    return u._replace(query=urlencode(q)).geturl()


def test_signed_file_urls_cannot_be_altered_or_reused_late(sharing):
    beijing = _file_urls(sharing, "beijing")
    hebei = _file_urls(sharing, "hebei")
    status, headers, body = _call(beijing[0])
    assert status == 200 and body[:4] == b"PAR1" and headers["content-type"] == "application/octet-stream"
    assert "/_sharing/cache/gold.aqi_daily/province-110000/" in beijing[0]
    sig = parse_qs(urlparse(beijing[0]).query)["sig"][0]
    forged = [
        _with(beijing[0], sig="0" * 64),  # a made-up signature
        _with(beijing[0], expires=str(int(time.time()) + 86400)),  # a later expiry
        _with(beijing[0], r="nmc"),  # someone else's name
        _with(hebei[0], r="beijing", sig=sig),  # another area's file with a signature for a Beijing file
        beijing[0].split("?")[0],  # no signature at all
    ]
    for url in forged:
        status, _, body = _call(url)
        assert status == 403 and json.loads(body)["errorCode"] == "PERMISSION_DENIED", (url, body)
    signer = sharing["provider"].signer
    relpath = urlparse(beijing[0]).path.removeprefix("/files/")
    late = signer.sign(sharing["base"], relpath, "beijing", now=time.time() - signer.ttl - 5)
    status, _, body = _call(late)
    assert status == 403 and "expired" in json.loads(body)["message"]
    # a URL a server signed for a Beijing recipient over a Hebei file is refused by the area check too
    other = urlparse(hebei[0]).path.removeprefix("/files/")
    status, _, body = _call(signer.sign(sharing["base"], other, "beijing"))
    assert status == 403 and "outside what recipient beijing may read" in json.loads(body)["message"]
    # and a national recipient's URL may only reach data files of tables granted to it, never the sharing state
    for relpath in ("_sharing/recipients.json", "gold/aqi_daily/_delta_log/00000000000000000000.json"):
        status, _, body = _call(signer.sign(sharing["base"], relpath, "nmc"))
        assert status == 403, (relpath, body)


def test_revoking_a_recipient_ends_its_outstanding_urls(sharing):
    store = sharing["provider"].recipients
    _, token = store.add("short-lived", parse_area("county", "130102"), ["monitoring"])
    sharing["tokens"]["short-lived"] = token
    urls = _file_urls(sharing, "short-lived")
    assert len(urls) == 2 and _call(urls[0])[0] == 200
    store.revoke("short-lived")
    assert _call(urls[0])[0] == 403
    assert _call(f"{sharing['endpoint']}/shares", token=token)[0] == 401


# ---------------------------------------------------------------------------------- cache and versions
def test_scoped_snapshot_is_reused_until_the_version_changes(sharing):
    provider, lake = sharing["provider"], sharing["lake"]
    r = provider.recipients.get("beijing")
    table = provider.shares.table("monitoring", "gold", "water_class")
    first = provider.query(r, table)
    manifest = next((lake / "_sharing" / "cache" / "gold.water_class" / "province-110000").glob("v0*.json"))
    stamp = manifest.stat().st_mtime_ns
    again = provider.query(r, table)
    assert [f.id for f in again.files] == [f.id for f in first.files] and manifest.stat().st_mtime_ns == stamp
    assert sum(f.rows for f in first.files) == 1
    write_deltalake(str(lake / "gold" / "water_class"), pa.table({
        "station_id": ["1002A", "1090A"], "period": ["2019-02", "2019-02"], "water_class": pa.array([1, 4], pa.int32())}),
        mode="append")
    newer = provider.query(r, table)
    stats = provider.cache.last_stats
    assert newer.snapshot.version == 1 and (stats.files_written, stats.files_reused) == (1, 1)
    assert sum(f.rows for f in newer.files) == 2
    # a new registry version may move stations between areas: every file is filtered again
    write_deltalake(str(lake / "silver" / "stations"), pa.table({
        "station_id": ["1999A"], "name": ["new"], "tier": ["national"], "province_code": ["110000"],
        "city_code": ["110100"], "county_code": ["110108"]}), mode="append")
    provider.query(r, table)
    assert (provider.cache.last_stats.files_written, provider.cache.last_stats.files_reused) == (2, 0)
    assert (manifest.parent / "v1-s2.json").exists()
    # pruned with no retention, only the newest manifest and the files it serves are left, and the
    # next query is answered from them without filtering again
    pruned = prune(lake / "_sharing" / "cache", retention_hours=0)
    assert pruned.manifests_removed >= 2 and pruned.files_removed >= 1
    left = {p.name for p in manifest.parent.iterdir()}
    served = provider.query(r, table)
    assert left == {"v1-s2.json"} | {Path(f.relpath).name for f in served.files}
    assert all((lake / f.relpath).exists() for f in served.files)


# ---------------------------------------------------------------------------------- access log
def test_access_log_records_every_request(sharing, client_results):
    log = sharing["provider"].access_log.tail(10_000)
    assert all(set(r) >= {"time", "recipient", "method", "path", "table", "status", "rows", "files"} for r in log)
    queries = [r for r in log if r["recipient"] == "beijing" and r["path"].endswith("/aqi_daily/query") and r["status"] == 200]
    assert queries and queries[0]["rows"] == 9 and queries[0]["files"] == 2 and queries[0]["table"] == "gold.aqi_daily"
    assert any(r["status"] == 401 and r["recipient"] == "-" for r in log)
    assert any(r["status"] == 403 and r["recipient"] == "beijing" and r["table"] == "gold.hex_daily" for r in log)
    files = [r for r in log if r["path"].startswith("/files/") and r["recipient"] == "dongcheng" and r["status"] in (200, 206)]
    assert files and all(r["table"] == "gold.aqi_daily" or r["table"] == "gold.region_daily" or r["table"] == "silver.stations"
                         for r in files)
    assert any(r["bytes"] for r in files)
    assert read_log(sharing["provider"].access_log).num_rows == len(log)
    assert sharing["provider"].access_log.tail(3) == log[-3:] and len(sharing["provider"].access_log.tail(3, "beijing")) == 3


# ---------------------------------------------------------------------------------- CLI
def _cli(argv: list[str]) -> int:
    from pipelines import cli_share

    parser = argparse.ArgumentParser(prog="smartmon")
    sub = parser.add_subparsers(dest="command")

    def add(name, fn, help_):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--lake", dest="lake_sub")
        p.set_defaults(fn=fn)
        return p

    cli_share.add_commands(add)
    args = parser.parse_args(argv)
    return args.fn(args)


def test_cli_adds_lists_revokes_and_shows_the_log(tmp_path, monkeypatch, capsys, sharing):
    from smartmon import config

    lake = tmp_path / "lake"
    _build_lake(lake)
    shares = sharing["root"] / "shares.yaml"
    monkeypatch.setenv("SMARTMON_LAKE", str(lake))
    config.settings.cache_clear()
    try:
        profile = tmp_path / "out" / "hebei.share"
        assert _cli(["share", "add-recipient", "hebei-eco", "--tier", "province", "--code", "130000", "--shares", str(shares),
                     "--tables", "gold.aqi_daily", "--expires-days", "30", "--profile-out", str(profile),
                     "--endpoint", "http://127.0.0.1:9/delta-sharing"]) == 0
        out = capsys.readouterr().out
        body = json.loads(profile.read_text())
        assert body["shareCredentialsVersion"] == 1 and body["endpoint"] == "http://127.0.0.1:9/delta-sharing"
        assert body["bearerToken"] in out and out.count(body["bearerToken"]) == 1 and body["expirationTime"].endswith("Z")
        assert stat.S_IMODE(profile.stat().st_mode) == 0o600
        stored = (lake / "_sharing" / "recipients.json").read_text()
        assert body["bearerToken"] not in stored and "hebei-eco" in stored
        assert _cli(["share", "list-recipients", "--shares", str(shares)]) == 0
        out = capsys.readouterr().out
        assert "hebei-eco" in out and "province-130000" in out and "gold.aqi_daily" in out and "active" in out
        assert _cli(["share", "tables", "--shares", str(shares)]) == 0
        assert "gold.hex_daily" in (out := capsys.readouterr().out) and "NATIONAL ONLY" in out
        assert _cli(["share", "revoke", "hebei-eco", "--shares", str(shares)]) == 0
        assert _cli(["share", "list-recipients", "--shares", str(shares)]) == 0
        assert "revoked" in capsys.readouterr().out
        with pytest.raises(Exception, match="tier city needs a prefecture code"):
            _cli(["share", "add-recipient", "x", "--tier", "city", "--code", "130000", "--shares", str(shares)])
        with pytest.raises(Exception, match=r"gold\.nothing is in no share"):
            _cli(["share", "add-recipient", "x", "--tier", "nation", "--tables", "gold.nothing", "--shares", str(shares)])
        assert _cli(["share", "log", "--limit", "5", "--shares", str(shares)]) == 0
    finally:
        config.settings.cache_clear()
