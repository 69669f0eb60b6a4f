"""The sharing server as a service (no Spark): /healthz and Prometheus /metrics, the consultation
reports behind the recipients' tokens and areas, and HTTPS with a certificate made in the test.

The server runs in-process on loopback (smartmon.sharing.server.running) over a small lake
written with delta-rs; requests go through urllib as curl's would. The reports are laid out as
smartmon.report writes them (folder names from its own Area.slug and Period.label), with
stand-in content, since what is tested is who may read them, not what they say.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from prometheus_client.parser import text_string_to_metric_families

from smartmon.errors import ConfigError
from smartmon.report.area import Area as ReportArea
from smartmon.report.area import make_period
from smartmon.service import tls_context
from smartmon.sharing.areas import parse_area
from smartmon.sharing.provider import Provider
from smartmon.sharing.server import PREFIX, create_app, running
from smartmon.sharing.shares import load_shares

DAY = date(2019, 1, 31)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SHARES = """
shares:
  - name: smartmon
    reports: true
    tables: [silver.stations, gold.aqi_daily]
  - name: sources
    tables: [silver.county_stats]
"""
# (tier, code, period): the reports on the shelf
REPORTS = [("national", "000000", "day"), ("province", "130000", "day"), ("province", "130000", "month"),
           ("province", "110000", "day"), ("city", "130100", "day"), ("city", "110100", "day")]


def _report_folder(root: Path, tier: str, code: str, period: str) -> Path:
    """Where smartmon.report.build_report writes a report (its own naming, not a copy of it)."""
    p = make_period(DAY, period)
    return root / ReportArea(tier, code, code).slug / f"{p.kind}-{p.label}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A lake, a reports shelf, a share file and recipients of every kind; yields (provider, tokens)."""
    root = tmp_path_factory.mktemp("sharing-service")
    lake = root / "lake"
    write_deltalake(str(lake / "silver" / "stations"), pa.table({
        "station_id": ["1001A", "1002A", "1051A"], "province_code": ["130000", "130000", "110000"],
        "city_code": ["130100", "130600", "110100"], "county_code": [None, None, "110101"]}))
    write_deltalake(str(lake / "gold" / "aqi_daily"), pa.table({
        "station_id": ["1001A", "1002A", "1051A"], "day": pa.array([DAY] * 3, pa.date32()), "aqi": [144, 69, 30]}))
    shelf = root / "reports"
    for tier, code, period in REPORTS:
        folder = _report_folder(shelf, tier, code, period)
        folder.mkdir(parents=True)
        heading = f"# {tier} {code} 环境质量会商报告 · {period} {make_period(DAY, period).label}\n"
        (folder / "report.md").write_text(heading + "\n![map](hexmap.png)\n", encoding="utf-8")
        (folder / "report.html").write_text(
            f'<!doctype html><html><body><nav><a href="#s1">1</a></nav><h1>{tier} {code}</h1>'
            '<figure><img src="hexmap.png" alt="map"></figure></body></html>', encoding="utf-8")
        (folder / "hexmap.png").write_bytes(PNG)
    (shelf / "province-130000" / "day-2019-02-01").mkdir()  # being written: no report.html yet, not listed
    shares = root / "shares.yaml"
    shares.write_text(SHARES, encoding="utf-8")
    provider = Provider(lake, load_shares(shares), reports_dir=shelf)
    tokens = {}
    for name, tier, code, grants, tables in [
        ("mee", "nation", None, ["smartmon", "sources"], []),
        ("hebei", "province", "130000", ["smartmon"], []),
        ("beijing", "province", "110000", ["smartmon"], []),
        ("sjz", "city", "130100", ["smartmon"], []),
        ("hebei-aqi-only", "province", "130000", ["smartmon"], ["gold.aqi_daily"]),
        ("hebei-enforcement", "province", "130000", ["sources"], []),
    ]:
        _, tokens[name] = provider.recipients.add(name, parse_area(tier, code), grants, tables)
    yield provider, tokens


@pytest.fixture(scope="module")
def server(site):
    provider, tokens = site
    with running(create_app(provider)) as base:
        yield base, provider, tokens


def fetch(url: str, token: str | None = None, *, method: str = "GET", body: dict | None = None,
          context: ssl.SSLContext | None = None) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) as curl would show them; errors are answers, not exceptions."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def report_url(base: str, tier: str, code: str, period: str = "day", name: str = "report.html") -> str:
    p = make_period(DAY, period)
    return f"{base}/reports/{tier}-{code}/{p.kind}-{p.label}/{name}"


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Prometheus text as {(sample name, sorted labels): value}."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


# ------------------------------------------------------------------------------ health and metrics
def test_healthz_says_what_it_serves(server):
    base, _, _ = server
    status, headers, body = fetch(base + "/healthz")
    assert status == 200 and headers["content-type"] == "application/json"
    health = json.loads(body)
    assert health["status"] == "ok" and health["service"] == "delta-sharing"
    assert (health["shares"], health["tables"], health["recipients_active"], health["reports"]) == (2, 3, 6, 6)


def test_metrics_count_requests_refusals_and_tables_served(site):
    provider, tokens = site
    with running(create_app(provider)) as base:  # an app of its own: counters from zero
        query = f"{base}{PREFIX}/shares/smartmon/schemas/gold/tables/aqi_daily/query"
        assert fetch(f"{base}{PREFIX}/shares", tokens["mee"])[0] == 200
        assert fetch(f"{base}{PREFIX}/shares")[0] == 401
        assert fetch(query, tokens["mee"], method="POST", body={})[0] == 200
        assert fetch(query, tokens["hebei"], method="POST", body={})[0] == 200
        assert fetch(f"{base}{PREFIX}/shares/sources", tokens["hebei"])[0] == 403
        assert fetch(report_url(base, "province", "110000"), tokens["hebei"])[0] == 403
        assert fetch(report_url(base, "province", "130000"), tokens["hebei"])[0] == 200
        assert fetch(base + "/healthz")[0] == 200
        status, headers, body = fetch(base + "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    got = samples(body.decode())
    assert got[("smartmon_sharing_requests_total", (("endpoint", "/delta-sharing/shares"), ("method", "GET"), ("status", "200")))] == 1
    assert got[("smartmon_sharing_requests_total", (("endpoint", "/delta-sharing/shares"), ("method", "GET"), ("status", "401")))] == 1
    assert got[("smartmon_sharing_requests_total", (("endpoint", "/reports/{area}/{run}/{name}"), ("method", "GET"),
                                                    ("status", "403")))] == 1
    assert got[("smartmon_sharing_requests_total", (("endpoint", "/healthz"), ("method", "GET"), ("status", "200")))] == 1
    assert got[("smartmon_sharing_refusals_total", (("reason", "UNAUTHENTICATED"),))] == 1
    assert got[("smartmon_sharing_refusals_total", (("reason", "PERMISSION_DENIED"),))] == 2
    assert got[("smartmon_sharing_table_queries_total", (("table", "gold.aqi_daily"),))] == 2
    assert got[("smartmon_sharing_rows_served_total", (("table", "gold.aqi_daily"),))] == 3 + 2  # the nation's 3, Hebei's 2
    assert got[("smartmon_sharing_reports_served_total", (("tier", "province"),))] == 1
    assert got[("smartmon_sharing_request_duration_seconds_count", (("endpoint", "/delta-sharing/shares"),))] == 2
    assert got[("smartmon_sharing_recipients", (("status", "active"),))] == 6
    assert got[("smartmon_sharing_shared_tables", (("share", "smartmon"),))] == 2
    # probes and scrapes are counted, not logged; the refused report is logged like a refused table
    log = provider.access_log.tail(100)
    assert not [r for r in log if r["path"] in ("/healthz", "/metrics")]
    (refused,) = [r for r in log if r["path"].startswith("/reports/province-110000") and r["recipient"] == "hebei"]
    assert refused["status"] == 403 and "outside the area of recipient hebei" in refused["error"]


def test_each_app_has_its_own_registry(site):
    provider, _ = site
    a, b = create_app(provider), create_app(provider)
    assert a.state.metrics.registry is not b.state.metrics.registry


# ------------------------------------------------------------------------------ reports
def test_a_report_is_fetched_with_its_provinces_token_and_refused_with_anothers(server):
    base, _, tokens = server
    status, headers, body = fetch(report_url(base, "province", "110000"), tokens["beijing"])
    assert status == 200 and headers["content-type"].startswith("text/html") and b"province 110000" in body
    status, headers, body = fetch(report_url(base, "province", "110000"), tokens["hebei"])
    assert status == 403 and headers["content-type"] == "application/json"
    error = json.loads(body)
    assert error["errorCode"] == "PERMISSION_DENIED"
    assert error["message"] == ("report province-110000/day-2019-01-31 covers province-110000, outside the area of "
                                "recipient hebei (province-130000)")


@pytest.mark.parametrize(("who", "tier", "code", "period", "name", "status"), [
    ("hebei", "province", "130000", "month", "report.md", 200),
    ("hebei", "city", "130100", "day", "report.html", 200),  # its cities' reports
    ("hebei", "city", "110100", "day", "report.html", 403),
    ("hebei", "national", "000000", "day", "report.html", 403),  # the nation's report is national only
    ("sjz", "city", "130100", "day", "hexmap.png", 200),
    ("sjz", "province", "130000", "day", "report.html", 403),  # a city does not read its province's report
    ("mee", "city", "110100", "day", "report.md", 200),
    ("mee", "national", "000000", "day", "report.html", 200),
    ("hebei-aqi-only", "province", "130000", "day", "report.html", 403),  # a grant narrowed to tables
    ("hebei-enforcement", "province", "130000", "day", "report.html", 403),  # a share without the reports
    ("hebei", "province", "130000", "day", "missing.png", 404),
    ("hebei", "province", "120000", "day", "report.html", 403),  # outside: refused before looking for the file
])
def test_report_files_follow_the_recipients_area(server, who, tier, code, period, name, status):
    base, _, tokens = server
    got, headers, body = fetch(report_url(base, tier, code, period, name), tokens[who])
    assert got == status, body
    if status != 200:
        assert json.loads(body)["errorCode"] == {403: "PERMISSION_DENIED", 404: "RESOURCE_DOES_NOT_EXIST"}[status]
    elif name.endswith(".png"):
        assert headers["content-type"] == "image/png" and body == PNG


def test_report_paths_outside_the_layout_and_requests_without_a_token(server):
    base, _, tokens = server
    for path in ("/reports/province-130000/day-2019-01-31/..%2F..%2Fshares.yaml", "/reports/province-130000/../x/report.html",
                 "/reports/county-130102/day-2019-01-31/report.html", "/reports/province-130000/week-1/report.html"):
        assert fetch(base + path, tokens["mee"])[0] == 404, path
    status, _, body = fetch(report_url(base, "province", "130000"))
    assert status == 401 and "missing bearer token" in json.loads(body)["message"]
    assert fetch(report_url(base, "province", "130000"), "not-a-token")[0] == 401


def test_a_report_page_signs_its_images_and_signed_links_keep_the_area(server):
    base, _, tokens = server
    _, _, body = fetch(report_url(base, "province", "130000"), tokens["hebei"])
    page = body.decode()
    assert 'href="#s1"' in page  # anchors untouched
    src = page.split('<img src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert src.startswith("hexmap.png?r=hebei&expires=")
    image = report_url(base, "province", "130000", name=src)
    status, headers, body = fetch(image)  # no token: the signature is the credential
    assert status == 200 and body == PNG and headers["content-type"] == "image/png"
    query = src.split("?", 1)[1]
    assert fetch(report_url(base, "province", "110000", name=f"hexmap.png?{query}"))[0] == 403  # another area: no match
    assert fetch(report_url(base, "province", "130000", name=f"report.md?{query}"))[0] == 403  # another file: no match
    tampered = query.replace("r=hebei", "r=mee")
    assert fetch(report_url(base, "province", "130000", name=f"hexmap.png?{tampered}"))[0] == 403


def test_index_pages_per_tier_list_what_the_recipient_may_read(server):
    base, _, tokens = server

    def listed(who: str, tier: str) -> list[str]:
        status, _, body = fetch(f"{base}/reports/{tier}/?format=json", tokens[who])
        assert status == 200, body
        return [f"{r['area']}/{r['period']}-{r['label']}" for r in json.loads(body)["reports"]]

    assert listed("hebei", "province") == ["province-130000/day-2019-01-31", "province-130000/month-2019-01"]
    assert listed("hebei", "city") == ["city-130100/day-2019-01-31"]
    assert listed("hebei", "national") == []
    assert listed("sjz", "province") == [] and listed("sjz", "city") == ["city-130100/day-2019-01-31"]
    assert listed("mee", "province") == ["province-110000/day-2019-01-31", "province-130000/day-2019-01-31",
                                         "province-130000/month-2019-01"]
    assert listed("mee", "national") == ["national-000000/day-2019-01-31"]

    status, _, body = fetch(f"{base}/reports/province/?format=json", tokens["hebei"])
    (day, _) = json.loads(body)["reports"]
    assert day["title"] == "province 130000 环境质量会商报告 · day 2019-01-31"
    link = day["links"]["report.html"]
    assert fetch(link)[0] == 200  # a signed link opens without the token

    status, headers, body = fetch(f"{base}/reports/city/", tokens["hebei"])
    page = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "city-130100" in page and "city-110100" not in page and "default-src 'none'" in headers["content-security-policy"]
    status, _, body = fetch(f"{base}/reports", tokens["hebei"])
    assert status == 200 and b"/reports/province/" in body
    status, _, body = fetch(f"{base}/reports/?format=json", tokens["hebei"])
    assert {t["tier"]: t["reports"] for t in json.loads(body)["tiers"]} == {"national": 0, "province": 2, "city": 1}
    assert fetch(f"{base}/reports/county/", tokens["mee"])[0] == 404
    assert fetch(f"{base}/reports/", tokens["hebei-aqi-only"])[0] == 403
    assert fetch(f"{base}/reports/province/")[0] == 401


# ------------------------------------------------------------------------------ TLS
def test_https_with_a_certificate(site, self_signed):
    provider, tokens = site
    with running(create_app(provider), tls_cert=self_signed.cert, tls_key=self_signed.key) as base:
        assert base.startswith("https://127.0.0.1:")
        status, _, body = fetch(base + "/healthz", context=self_signed.client_context())
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, _, _ = fetch(report_url(base, "province", "130000"), tokens["hebei"], context=self_signed.client_context())
        assert status == 200
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            fetch(base + "/healthz", context=ssl.create_default_context())  # a client that does not trust it
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            fetch(base.replace("https://", "http://") + "/healthz")  # plain HTTP gets no answer


def test_a_wrong_certificate_or_key_stops_the_start_naming_it(tmp_path, self_signed):
    with pytest.raises(ConfigError, match="both a certificate and its key"):
        tls_context(self_signed.cert, None)
    with pytest.raises(ConfigError, match="does not exist"):
        tls_context(tmp_path / "none.pem", self_signed.key)
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="cannot serve TLS with certificate"):
        tls_context(self_signed.cert, tmp_path / "junk.pem")
    assert tls_context(None, None) is None
