"""The resolved jar folder matches the Python pins and does not shadow pyspark's own jars."""

import re
from importlib.metadata import version
from pathlib import Path

import pyspark

from smartmon.config import JARS_DIR, REPO_ROOT
from smartmon.spark import delta_jars


def test_delta_jar_matches_the_python_package_and_spark_line():
    jars = [Path(j).name for j in delta_jars()]
    delta = version("delta-spark")
    line = ".".join(pyspark.__version__.split(".")[:2])
    assert f"delta-spark_{line}_2.13-{delta}.jar" in jars
    pom = (REPO_ROOT / "infra/jvm/pom.xml").read_text()
    assert f"<delta.version>{delta}</delta.version>" in pom and f"<spark.line>{line}</spark.line>" in pom


def test_no_jar_duplicates_one_that_pyspark_ships():
    shipped = {re.sub(r"-[0-9][^-]*(-[0-9]+)?\.jar$", "", p.name) for p in (Path(pyspark.__file__).parent / "jars").glob("*.jar")}
    ours = {re.sub(r"-[0-9][^-]*(-[0-9]+)?\.jar$", "", p.name) for p in JARS_DIR.glob("*.jar")}
    assert not (ours & shipped), ours & shipped
