"""Bronze parsing on a cluster runs as Spark tasks on the worker, not on the driver.

A Spark standalone master and worker on loopback (the only services this needs), the cluster
profile, a lake in a local folder (the worker shares the machine), and `smartmon ingest
cnemc-archive --bronze-only` on three real CNEMC days, one of them February's file that is cut
off mid-row. The worker's executor log names every file its Python workers parsed; the driver
says it sent the files out as tasks; bronze and quarantine account for every record, the cut
row refused with its line. A few minutes, unlike the whole-nightly comparison beside it.
"""

from __future__ import annotations

import sys

import pytest
from deltalake import DeltaTable

from smartmon.config import default_data_root
from tests.cluster.loopback import LoopbackCluster
from tests.cluster.test_cluster_nightly import SMARTMON, _clean_env, _run

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(1800)]

FILES = [("china_national_aq_hourly", "china_sites_20190105.csv"), ("china_national_aq_hourly", "china_sites_20190106.csv"),
         ("china_national_aq_hourly_2019_02", "china_sites_20190220.csv")]  # 2019-02-20 stops inside hour 7's AQI row


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("cluster-ingest")
    full = default_data_root()
    landing = root / "files"
    landing.mkdir()
    for folder, name in FILES:
        (landing / name).symlink_to(full / folder / name)
    with LoopbackCluster(root / "cluster", services=("spark",), spark_memory="3g") as cluster:
        env = _clean_env(SMARTMON_PROFILE="cluster", SPARK_MASTER=cluster.spark_master, SMARTMON_LAKE=str(root / "lake"),
                         SMARTMON_DATA=str(full), SMARTMON_LANDING=str(root / "landing"), SPARK_LOCAL_IP="127.0.0.1",
                         PYSPARK_PYTHON=sys.executable, SMARTMON_SHUFFLE_PARTITIONS="4", SMARTMON_SNAPSHOT_PARTITIONS="2",
                         SMARTMON_EXECUTOR_MEMORY="2g", SMARTMON_DRIVER_MEMORY="2g")
        _run([SMARTMON, "ingest", "cnemc-archive", str(landing), "--bronze-only"], env, root / "ingest.log", 1500)
        executor_log = "".join(p.read_text(errors="replace") for p in (cluster.root / "spark-work").glob("app-*/*/stderr"))
    return {"root": root, "landing": landing, "log": (root / "ingest.log").read_text(errors="replace"),
            "executor_log": executor_log, "lake": root / "lake"}


def test_each_file_was_parsed_by_a_task_on_the_worker(ingested):
    assert "files parsed as Spark tasks on the executors" in ingested["log"]
    parsed = [line for line in ingested["executor_log"].splitlines() if "smartmon.bronze.task parsed" in line]
    for _, name in FILES:
        assert any(str(ingested["landing"] / name) in line for line in parsed), f"no task on the worker parsed {name}"


def test_every_record_is_in_bronze_or_quarantine(ingested):
    lake = ingested["lake"]
    manifest = DeltaTable(str(lake / "bronze" / "ingest_batches")).to_pandas()
    assert set(manifest["status"]) == {"ingested"} and len(manifest) == len(FILES)
    bronze = DeltaTable(str(lake / "bronze" / "cnemc_hourly")).to_pandas()
    quarantine = DeltaTable(str(lake / "bronze" / "quarantine")).to_pandas()
    assert len(bronze) == manifest["records_accepted"].sum() > 0
    assert len(quarantine) == manifest["records_quarantined"].sum()
    assert manifest["records_read"].sum() == len(bronze) + len(quarantine)
    cut = quarantine[quarantine["source_file"].str.endswith("china_sites_20190220.csv")]
    assert len(cut) >= 1 and cut["source_line"].notna().all(), cut
