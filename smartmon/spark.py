"""The one place a SparkSession is built: Delta configured, jars local, sized for the machine.

Jobs and transforms never build sessions; runners call get_spark() once per process, so a
whole DAG shares one JVM (each separate Spark process costs about 10 s to start here).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from smartmon.config import INFRA_DIR, JARS_DIR, S3_JARS_DIR, Settings, settings
from smartmon.errors import SetupError

log = logging.getLogger(__name__)


def _jars_in(folder: Path, marker: str, missing: str) -> list[str]:
    """The jars a Maven target resolved into folder; refuse clearly when `marker` is not among them."""
    jars = sorted(str(p) for p in folder.glob("*.jar"))
    if not any(Path(j).name.startswith(marker) for j in jars):
        raise SetupError(missing)
    return jars


def delta_jars(jars_dir: Path = JARS_DIR) -> list[str]:
    """The Delta jars that `make jars` resolved."""
    return _jars_in(jars_dir, "delta-spark", f"Delta jars not found in {jars_dir}: run `make jars` (needs Java 17 and Maven; "
                    "it resolves infra/jvm/pom.xml from Maven Central once, nothing is downloaded at run time)")


def s3_jars(jars_dir: Path | None = None) -> list[str]:
    """hadoop-aws and the AWS SDK bundle that `make jars-s3a` resolved (a lake on s3a:// needs them)."""
    jars_dir = jars_dir or S3_JARS_DIR
    return _jars_in(jars_dir, "hadoop-aws", f"the lake is on S3 but hadoop-aws is not in {jars_dir}: run `make jars-s3a` "
                    "(resolves infra/jvm/s3a/pom.xml with Maven once; about 690 MB, mostly the AWS SDK bundle)")


def _java_check() -> None:
    if not os.environ.get("JAVA_HOME") and not any(
        (Path(d) / "java").exists() for d in os.environ.get("PATH", "").split(os.pathsep)
    ):
        raise SetupError("Java not found: install a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)")


def base_conf(cfg: Settings) -> dict[str, str]:
    """Session settings; local sizes suit a 2-core, 24 GiB machine."""
    cores = os.cpu_count() or 2
    metastore = cfg.metastore_dir
    conf = {
        "spark.jars": ",".join(delta_jars()),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.shuffle.partitions": str(max(4, 2 * cores)) if cfg.is_local else "200",
        # Delta reconstructs table state with 50 partitions by default: far too many for a
        # small lake on 2 cores (a 100-row MERGE spends most of its time scheduling those tasks).
        "spark.databricks.delta.snapshotPartitions": "2" if cfg.is_local else "50",
        # Tables others read must stay readable by delta-rs: no deletion vectors.
        "spark.databricks.delta.properties.defaults.enableDeletionVectors": "false",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.ansi.enabled": "false",
        # Tables by name (smartmon.metastore): a Hive-compatible catalog, embedded on Derby in the
        # metastore folder unless the profile's spark_conf points at a shared metastore
        # (spark.hadoop.hive.metastore.uris). Databases get their folders there; every table is
        # EXTERNAL at its lake path, so dropping a name never deletes data.
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore}/metastore_db;create=true",
        "spark.sql.warehouse.dir": str(metastore / "warehouse"),
        # a metastore another process holds is reported at once, not after Hive's ten retries 2 s apart
        "spark.hadoop.hive.hmshandler.retry.attempts": "1",
        "spark.smartmon.metastore.lake": cfg.lake,
    }
    if cfg.lake.startswith("s3a://"):
        # On the system class path of driver and executors, beside pyspark's hadoop-client: S3A is
        # loaded by Hadoop's own class loader. The same path on every node (the image has it there).
        extra = ":".join(s3_jars())
        conf["spark.driver.extraClassPath"] = extra
        conf["spark.executor.extraClassPath"] = extra
    if cfg.is_local:
        # Python workers must run this interpreter (the venv), not whatever python3 is on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        # Everything of the embedded default stays on loopback.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        conf.update(
            {
                "spark.driver.memory": os.environ.get("SMARTMON_DRIVER_MEMORY", "6g"),
                "spark.ui.enabled": "false",
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.driver.extraJavaOptions": f"-Dderby.system.home={metastore} "
                f"-Dlog4j.configurationFile=file:{INFRA_DIR / 'spark' / 'log4j2.properties'}",
            }
        )
    conf.update(cfg.spark_conf)
    return conf


def get_spark(cfg: Settings | None = None, app_name: str = "smartmon") -> SparkSession:
    """Return the process's SparkSession, creating it with Delta on first use."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    cfg = cfg or settings()
    _java_check()
    cfg.metastore_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.master(cfg.spark_master).appName(app_name)
    for key, value in base_conf(cfg).items():
        builder = builder.config(key, value)
    log.info("starting Spark (%s, lake %s)", cfg.spark_master, cfg.lake)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
