"""A real cluster on loopback for `make test-cluster`: an S3-compatible object store, a Spark
standalone master and worker, a Ray head and worker node, and an MLflow tracking server.

Each service runs as its own process (the Spark daemons from pyspark's own bin/spark-class, Ray
from `ray start`, MLflow from `mlflow server`, the object store from moto's server in
.venv-s3), bound to 127.0.0.1 on free ports, logging under the cluster's folder. `env()` is
what a job needs to run with the `cluster` profile against them. Stopping is in reverse order
and also happens when a start fails half way, so a broken start never leaves daemons behind.

Run by hand to try the cluster profile: `.venv/bin/python -m tests.cluster.loopback DIR`
starts everything, prints the environment to export, and stops on Ctrl-C.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

from smartmon.config import REPO_ROOT

log = logging.getLogger(__name__)

# `ray start` swaps 127.0.0.1 for the machine's address (ray._private.services.resolve_ip_for_localhost)
# and would listen on the network; another address of the loopback net keeps Ray on this machine.
RAY_IP = "127.0.0.2"
BUCKET = "smartmon-lake"
ACCESS_KEY, SECRET_KEY, REGION = "smartmon", "smartmon-loopback-secret", "us-east-1"
S3_VENV = REPO_ROOT / ".venv-s3"
VENV_BIN = Path(sys.executable).parent


class ClusterError(RuntimeError):
    """A service did not come up; the message names it and the log to read."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, ready: Callable[[], bool], logfile: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.5)
    tail = logfile.read_text(errors="replace")[-2000:] if logfile.exists() else "(no log)"
    raise ClusterError(f"{what} not ready after {timeout:.0f} s; last lines of {logfile}:\n{tail}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


@dataclass
class LoopbackCluster:
    """Start with `with LoopbackCluster(root) as c:`; every service stops on exit."""

    root: Path
    spark_cores: int = 2
    spark_memory: str = "6g"
    # a test that needs only some of them starts those ("s3", "spark", "ray", "mlflow")
    services: tuple[str, ...] = ("s3", "spark", "ray", "mlflow")
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    # Ray's token authentication (on by default for `ray start --head` since Ray 2.5x): every node
    # and every driver presents the same token, as on the KubeRay cluster (infra/k8s/raycluster.yaml)
    ray_token: str = field(default_factory=lambda: secrets.token_hex(32))
    _ray_started: bool = False
    _previous_sigterm: object = None

    def __enter__(self) -> LoopbackCluster:
        # a SIGTERM (a CI timeout, `kill`) must stop the services too, not only Ctrl-C
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)
        try:
            steps = {"s3": self._object_store, "spark": self._spark, "ray": self._ray, "mlflow": self._mlflow}
            for step in (steps[name] for name in steps if name in self.services):
                t0 = time.monotonic()
                step()
                log.info("%s up in %.1f s", step.__name__.strip("_"), time.monotonic() - t0)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)

    # -- services ------------------------------------------------------------------

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Path:
        logfile = self.root / "logs" / f"{name}.log"
        out = logfile.open("ab")
        # own process group: stop() can end a service and everything it forked
        self.procs[name] = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                            cwd=self.root, start_new_session=True)
        return logfile

    def _object_store(self) -> None:
        server = S3_VENV / "bin" / "moto_server"
        if not server.exists():
            raise ClusterError(f"{server} missing: run `make s3-store` (moto[server] in {S3_VENV.name})")
        port = self.ports["s3"] = free_port()
        logfile = self._spawn("s3", [str(server), "-H", "127.0.0.1", "-p", str(port)])
        _wait("object store (moto)", lambda: _port_open(port), logfile)
        # the bucket, made with the store's own client (boto3 lives in .venv-s3, not in .venv)
        code = ("import boto3,sys; boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], "
                "aws_secret_access_key=sys.argv[3], region_name=sys.argv[4]).create_bucket(Bucket=sys.argv[5])")
        subprocess.run([str(S3_VENV / "bin" / "python"), "-c", code, self.s3_endpoint, ACCESS_KEY, SECRET_KEY, REGION, BUCKET],
                       check=True, capture_output=True)

    def _spark(self) -> None:
        spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
        env = {"SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(self.root / "logs"), "PYSPARK_PYTHON": sys.executable,
               "SPARK_WORKER_DIR": str(self.root / "spark-work")}
        port, ui = self.ports["spark"], self.ports["spark_ui"] = free_port(), free_port()
        logfile = self._spawn("spark-master", [str(spark_class), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                               "--port", str(port), "--webui-port", str(ui)], env)
        _wait("Spark master", lambda: _port_open(port) and _port_open(ui), logfile)
        logfile = self._spawn("spark-worker", [str(spark_class), "org.apache.spark.deploy.worker.Worker", self.spark_master,
                                               "--host", "127.0.0.1", "--cores", str(self.spark_cores), "--memory",
                                               self.spark_memory, "--webui-port", str(free_port())], env)
        _wait("Spark worker registered with the master",
              lambda: any(w["state"] == "ALIVE" for w in _get_json(f"http://127.0.0.1:{ui}/json/")["workers"]), logfile)

    def _ray(self) -> None:
        ray = str(VENV_BIN / "ray")
        port = self.ports["ray"] = free_port()
        env = {**os.environ, **self.ray_env(), "RAY_USAGE_STATS_ENABLED": "0"}
        temp = Path("/tmp") / f"ray-{self.root.name}"  # Ray's socket paths must stay short
        head = [ray, "start", "--head", "--node-ip-address", RAY_IP, "--port", str(port), "--num-cpus", "1",
                "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", str(temp)]
        worker = [ray, "start", "--address", f"{RAY_IP}:{port}", "--node-ip-address", RAY_IP, "--num-cpus", "1"]
        self._ray_started = True
        for name, cmd in (("ray-head", head), ("ray-worker", worker)):
            with (self.root / "logs" / f"{name}.log").open("ab") as out:
                done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.root, timeout=180)
            if done.returncode:
                raise ClusterError(f"`{' '.join(cmd)}` failed; see {self.root / 'logs' / f'{name}.log'}")
        _wait("Ray: two alive nodes", lambda: self.ray_nodes() == 2, self.root / "logs" / "ray-worker.log")

    def ray_env(self) -> dict[str, str]:
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.ray_token}

    def ray_nodes(self) -> int:
        code = ("import ray,sys; ray.init(address=sys.argv[1], logging_level='ERROR', log_to_driver=False); "
                "print(sum(n['Alive'] for n in ray.nodes()))")
        out = subprocess.run([sys.executable, "-c", code, self.ray_address], capture_output=True, text=True, timeout=120,
                             env={**os.environ, **self.ray_env()})
        return int(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 and out.stdout.strip() else 0

    def _mlflow(self) -> None:
        port = self.ports["mlflow"] = free_port()
        store = self.root / "mlflow"
        store.mkdir(exist_ok=True)
        logfile = self._spawn("mlflow", [str(VENV_BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
                                         "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
                                         "--artifacts-destination", str(store / "artifacts"), "--workers", "1"],
                              {"MLFLOW_DISABLE_TELEMETRY": "true"})
        _wait("MLflow tracking server", lambda: urllib.request.urlopen(f"{self.mlflow_uri}/health", timeout=5).status == 200,
              logfile, timeout=180)

    # -- what jobs need ---------------------------------------------------------------

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def spark_master(self) -> str:
        return f"spark://127.0.0.1:{self.ports['spark']}"

    @property
    def ray_address(self) -> str:
        return f"{RAY_IP}:{self.ports['ray']}"

    @property
    def mlflow_uri(self) -> str:
        return f"http://127.0.0.1:{self.ports['mlflow']}"

    def env(self, lake: str = f"s3a://{BUCKET}/lake") -> dict[str, str]:
        """The environment of a job run with the cluster profile (infra/profiles/cluster.yaml)."""
        return {
            "SMARTMON_PROFILE": "cluster",
            "SMARTMON_LAKE": lake,
            "SPARK_MASTER": self.spark_master,
            "RAY_ADDRESS": self.ray_address,
            **self.ray_env(),
            "MLFLOW_TRACKING_URI": self.mlflow_uri,
            "S3_ENDPOINT": self.s3_endpoint,
            # read by S3A (through the profile), by delta-rs (reports) and by MLflow's clients alike
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.s3_endpoint,
            "AWS_ALLOW_HTTP": "true",
            "SPARK_LOCAL_IP": "127.0.0.1",
            "PYSPARK_PYTHON": sys.executable,
            # one worker on 2 cores: Spark's cluster defaults are sized for a real cluster
            "SMARTMON_SHUFFLE_PARTITIONS": "8",
            "SMARTMON_SNAPSHOT_PARTITIONS": "2",
            "SMARTMON_EXECUTOR_MEMORY": "4g",
        }

    # -- stopping ---------------------------------------------------------------------

    def stop(self) -> None:
        if self._ray_started:
            subprocess.run([str(VENV_BIN / "ray"), "stop", "--force"], capture_output=True, timeout=120,
                           env={**os.environ, **self.ray_env()})
            self._ray_started = False
        for name in reversed(list(self.procs)):
            proc = self.procs.pop(name)
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)
                except ProcessLookupError:
                    pass
            log.info("stopped %s", name)
        shutil.rmtree(Path("/tmp") / f"ray-{self.root.name}", ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    root = Path((argv or sys.argv[1:] or ["cluster"])[0]).resolve()
    with LoopbackCluster(root) as cluster:
        print("cluster up; in another shell:")
        for k, v in cluster.env().items():
            print(f"  export {k}={v}")
        print(f"logs under {root / 'logs'}; Ctrl-C stops everything")
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
