"""Source adapters on real files, and on copies of real files with injected faults (no Spark)."""

import shutil

import pytest

from jobs.bronze import cnemc_archive, epa_pmf, hj212, kdd2018, kdd2018_meo, uci_beijing, water_auto
from jobs.bronze.adapter import AirFeed, SourceAdapter, adapters, simulated
from jobs.bronze.ingest import expand

REAL = (cnemc_archive, uci_beijing, kdd2018, kdd2018_meo, water_auto, hj212, epa_pmf)


@pytest.mark.parametrize(
    "adapter, relpath, read, accepted",
    [
        (cnemc_archive, "china_national_aq_hourly/china_sites_20190101.csv", 360, 360),
        (uci_beijing, "beijing_multisite/PRSA_Data_Dongsi_20130301-20170228.csv", None, None),
        (kdd2018, "kddcup2018_beijing/api_aq_2018-04/bj_aq_2018-04-30-0_2018-04-30-23.csv", 770, 770),
        (water_auto, "china_surface_water/unknown_station_2021_4hourly.csv", 2124, 2124),
        (hj212, "hj212_messages/hj212_messages.tsv", 27, 19),
        (epa_pmf, "epa_pmf_esat/Dataset-StLouis-con.csv", 418, 418),
        (epa_pmf, "epa_pmf_esat/Dataset-Baltimore_con.txt", 657, 630),
    ],
)
def test_real_files_reconcile(data_root, adapter, relpath, read, accepted):
    path = data_root / relpath
    parsed = adapter.parse(path)
    assert parsed.records_read == parsed.rows.num_rows + len(parsed.rejects)
    if read is not None:
        assert (parsed.records_read, parsed.records_accepted) == (read, accepted)
    assert adapter.matches(path)


def test_every_adapter_finds_its_files_in_the_data_root(data_root):
    for adapter in REAL:
        assert expand([], adapter, data_root), adapter.NAME
    # the simulated feeds come only from the landing zone
    assert not any(expand([], adapter, data_root) for adapter in simulated())
    assert set(adapters()) == {a.NAME for a in (*REAL, *simulated())}


def test_every_adapter_module_satisfies_the_protocol():
    """The registry's adapters are exactly the modules of jobs/bronze that satisfy SourceAdapter;
    every one that feeds silver.air_hourly is an AirFeed."""
    from smartmon.catalog.names import SILVER_AIR_HOURLY

    found = adapters()
    assert len(found) == 17
    for adapter in found.values():
        assert isinstance(adapter, SourceAdapter)
        assert (SILVER_AIR_HOURLY in adapter.FEEDS) == isinstance(adapter, AirFeed), adapter.NAME
    assert {a.NAME for a in found.values() if SILVER_AIR_HOURLY in a.FEEDS} == {
        "cnemc-archive", "uci-beijing", "kdd2018", "provincial-air", "county-air", "township-sensors"}


def test_kdd_layouts_and_meteo(data_root):
    excel = kdd2018.parse(data_root / "kddcup2018_beijing/api_aq_2018-04/bj_aq_2018-04-30-0_2018-04-30-23.csv")
    assert set(excel.rows.column("layout").to_pylist()) == {"api"}
    meo = kdd2018_meo.parse(data_root / "kddcup2018_beijing/beijing_201802_201803_me.csv")
    assert "999017" in meo.rows.column("wind_direction").to_pylist()


@pytest.fixture()
def corrupted(tmp_path, data_root):
    """A copy of a real CNEMC day with faults injected at known lines."""
    src = data_root / "china_national_aq_hourly/china_sites_20190102.csv"
    lines = src.read_bytes().split(b"\n")
    lines[5] = lines[5][:40]  # truncated record -> wrong field count
    lines[7] = lines[7].replace(b",", b",\xff\xfe", 1)  # broken encoding
    lines[9] = lines[9].rstrip(b"\r") + b",99\r"  # one field too many
    lines[11] = lines[11].replace(b",", b",\r", 1)  # a stray carriage return inside the line
    path = tmp_path / "china_sites_20190102.csv"
    path.write_bytes(b"\n".join(lines))
    return path


def test_injected_faults_are_refused_with_line_and_reason(corrupted):
    parsed = cnemc_archive.parse(corrupted)
    reasons = {line: reason for line, _, reason in parsed.rejects}
    assert set(reasons) == {6, 8, 10, 12}
    assert "fields" in reasons[6] and "not valid utf-8" in reasons[8] and "got 1609" in reasons[10]
    assert "unparseable line" in reasons[12]
    assert parsed.records_read == 360 and parsed.records_accepted == 356


def test_a_wrong_header_refuses_the_whole_file(tmp_path, data_root):
    src = data_root / "beijing_multisite/PRSA_Data_Dongsi_20130301-20170228.csv"
    path = tmp_path / "PRSA_Data_X.csv"
    with open(src, "rb") as fh, open(path, "wb") as out:
        out.write(fh.readline().replace(b'"PM2.5"', b'"PM25"'))
        for _ in range(10):
            out.write(fh.readline())
    parsed = uci_beijing.parse(path)
    assert parsed.rows.num_rows == 0 and len(parsed.rejects) == 10
    assert "file refused: header" in parsed.rejects[0][2]


def test_missing_uncertainty_file_refuses_every_sample(tmp_path, data_root):
    path = tmp_path / "Dataset-StLouis-con.csv"
    shutil.copy(data_root / "epa_pmf_esat/Dataset-StLouis-con.csv", path)
    parsed = epa_pmf.parse(path)
    assert parsed.rows.num_rows == 0 and len(parsed.rejects) == 418


def test_mapped_feed_with_an_unknown_header_refuses_every_line(tmp_path):
    from jobs.bronze import power_use

    p = tmp_path / "enterprise_201901.csv"
    p.write_text("户号,日期,电量\nE1,2019-01-01,5\nE2,2019-01-01,6\n", encoding="utf-8")
    parsed = power_use.parse(p)
    assert parsed.records_read == 2 and parsed.rows.num_rows == 0
    assert [r[0] for r in parsed.rejects] == [2, 3] and "matches no known layout" in parsed.rejects[0][2]


def test_township_lines_that_are_not_device_records_are_refused(tmp_path):
    from jobs.bronze import township_sensors

    p = tmp_path / "sensors_20190101.jsonl"
    p.write_bytes(b'{"device":"T1","ts":1546272000,"pm25":3,"rh":80}\n[1,2]\n{"device":"T2"}\n{"device":\n\xff\xfe\n')
    parsed = township_sensors.parse(p)
    assert parsed.records_read == 5 and parsed.rows.num_rows == 1
    assert parsed.rows.column("other").to_pylist() == [[("rh", "80")]]
    reasons = [r[2] for r in parsed.rejects]
    assert reasons[0] == reasons[1] == "not a JSON object with device and ts"
    assert reasons[2].startswith("not valid JSON") and reasons[3].startswith("not valid utf-8")


@pytest.mark.parametrize("body, fast", [
    ("C1,2019-01-01T00:00:00+08:00,1,2,3,4,500,6\nC2,2019-01-01T00:00:00+08:00,1,2\nC3,x,,,,,,\nC4,y,1,2,3,4,5,6,7\n", True),
    ('C1,"a,b",1,2,3,4,5,6\nC2,t,1,2,3,4,5,6\n', False),  # quotes: line by line
    ("C1,t,1,2,3,4,5,6\n\nC2,t,1,2,3,4,5,6\n", False),  # an empty line: line by line
    ("C1,t,1,2,3,4,5,6\rC2,t,1,2,3,4,5,6\n", False),  # a bare CR: line by line
])
def test_arrow_and_line_paths_agree(tmp_path, body, fast):
    from jobs.bronze import base, county_air

    p = tmp_path / "county_20190101.csv"
    p.write_text(",".join(county_air.HEADER) + "\n" + body, encoding="utf-8")
    arrow = base._arrow_flat_csv(p, county_air.HEADER, county_air.HEADER, "utf-8")
    assert (arrow is not None) == fast
    _, records, rejects, read = base.csv_records(p, county_air.HEADER)
    parsed = county_air.parse(p)
    assert parsed.records_read == read and parsed.rejects == rejects
    assert parsed.rows.column("source_line").to_pylist() == [line for line, _ in records]
    assert parsed.rows.column("pm25").to_pylist() == [f[2] for _, f in records]
