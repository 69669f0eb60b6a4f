"""smartmon as a wheel, installed non-editably into a fresh venv as a user would (no checkout on
its path): the CLI answers, and a job builds its table in a lake of the working directory with the
configuration the wheel carries and the jars and data the environment names."""

import json
import subprocess

import pytest

from smartmon.config import REPO_ROOT
from tests.venvs import UV, activated, fresh_venv

_JOB = """
import json, sys
import smartmon
from smartmon.config import CHECKOUT, INFRA_DIR, settings
from pipelines.cli import main
assert main(["stations"]) == 0
assert main(["sql", "SELECT count(*) AS n FROM silver.stations", "--csv"]) == 0
cfg = settings()
print(json.dumps({"module": smartmon.__file__, "checkout": CHECKOUT, "infra": str(INFRA_DIR), "lake": cfg.lake,
                  "profile": cfg.profile, "metastore": str(cfg.metastore_dir)}))
"""


@pytest.mark.heavy  # two minutes (a venv of every dependency, then a JVM job): `make test-all`
def test_the_wheel_installs_and_runs_a_job_outside_the_checkout(tmp_path, data_root):
    wheels = tmp_path / "dist"
    subprocess.run([str(UV), "build", "--wheel", "-q", "--out-dir", str(wheels)], cwd=REPO_ROOT, check=True, timeout=300)
    (wheel,) = wheels.glob("smartmon-*.whl")
    bin_dir = fresh_venv(tmp_path / "venv", str(wheel))
    work = tmp_path / "work"
    work.mkdir()
    env = activated(bin_dir, SMARTMON_JARS=str(REPO_ROOT / "infra" / "jvm" / "jars"), SMARTMON_DATA=str(data_root))
    for key in ("SMARTMON_LAKE", "SMARTMON_PROFILE", "MLFLOW_TRACKING_URI", "SMARTMON_MLFLOW_ARTIFACTS", "SMARTMON_METASTORE"):
        env.pop(key, None)  # the suite's own: the wheel must find its defaults itself

    helped = subprocess.run([str(bin_dir / "smartmon"), "--help"], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0 and "nightly" in helped.stdout and "sql" in helped.stdout, helped.stderr[-2000:]

    done = subprocess.run([str(bin_dir / "python"), "-c", _JOB], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    got = json.loads(lines[-1])
    site = str(tmp_path / "venv")
    assert got["module"].startswith(site) and not got["checkout"]  # the installed package, not the checkout
    assert got["infra"] == f"{site}/share/smartmon/infra" and got["profile"] == "local"
    assert got["lake"] == str(work / "lake") and got["metastore"] == str(work / "lake" / "_catalog")
    assert (work / "lake" / "silver" / "stations" / "_delta_log").is_dir()
    n = int(lines[lines.index("n") + 1])
    assert n > 1000  # the national registry from the data root's station lists
