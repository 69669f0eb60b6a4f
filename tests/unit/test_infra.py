"""The deployment files under infra/ (schedules, Kubernetes manifests, YARN defaults, Dockerfile)
agree with the code they deploy: every expected value is derived from the code, the profiles or
pyproject.toml, so a renamed variable, a changed Spark setting or a new version pin fails here
instead of in the first nightly on a cluster. Pure file checks: no Spark, Ray or cluster.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from smartmon import config

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
K8S = INFRA / "k8s"
SCHEDULES = INFRA / "schedules"
MANIFEST_FILES = sorted([*K8S.glob("*.yaml"), *SCHEDULES.glob("*.yaml")])
DAG_FILE = SCHEDULES / "airflow_nightly.py"
DAG_ID = "smartmon_nightly"
def _dag_tasks() -> set[str]:
    """One Airflow task per job of the graph, and the closing status check."""
    from pipelines.definitions import graph

    return {*graph().order, "status"}

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
IMAGE = f"smartmon:{VERSION}"


def _pin(package: str) -> str:
    """The exact version pinned for a package in pyproject.toml (`name[extras]==x.y.z`)."""
    for dep in PYPROJECT["project"]["dependencies"]:
        m = re.fullmatch(rf"{re.escape(package)}(\[[^\]]*\])?==([\w.]+)", dep)
        if m:
            return m.group(2)
    raise AssertionError(f"{package} is not pinned with == in pyproject.toml")


# Variables read by Ray itself, not by smartmon: token authentication of the Ray cluster
# (raycluster.yaml). Every other variable a smartmon workload gets must be one smartmon reads.
RAY_ENGINE_ENV = {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN"}
# Sizes in the cluster profile whose defaults suit a real cluster; only the loopback cluster of
# `make test-cluster` (one 2-core worker) lowers them, so the workloads need not set them.
PROFILE_SIZING_ENV = {"SMARTMON_SHUFFLE_PARTITIONS", "SMARTMON_SNAPSHOT_PARTITIONS", "SMARTMON_EXECUTOR_MEMORY",
                      "SMARTMON_DRIVER_MEMORY"}

# Field names of the custom resources, from their Go API types (spark-operator
# api/v1beta2/sparkapplication_types.go; KubeRay ray-operator/apis/ray/v1/raycluster_types.go and
# rayjob_types.go): a misspelt field would be dropped silently by the API server.
SPARK_APP_SPEC = {
    "type", "sparkVersion", "mode", "proxyUser", "image", "imagePullPolicy", "imagePullSecrets",
    "mainClass", "mainApplicationFile", "arguments", "sparkConf", "hadoopConf", "sparkConfigMap",
    "hadoopConfigMap", "volumes", "driver", "executor", "deps", "restartPolicy", "nodeSelector",
    "failureRetries", "retryInterval", "pythonVersion", "memoryOverheadFactor", "monitoring",
    "batchScheduler", "timeToLiveSeconds", "batchSchedulerOptions", "sparkUIOptions",
    "driverIngressOptions", "dynamicAllocation",
}
SPARK_POD_SPEC = {
    "template", "cores", "coreLimit", "memory", "memoryOverhead", "gpu", "image", "configMaps",
    "secrets", "env", "envVars", "envFrom", "envSecretKeyRefs", "labels", "annotations",
    "volumeMounts", "affinity", "tolerations", "podSecurityContext", "securityContext",
    "schedulerName", "sidecars", "initContainers", "hostNetwork", "nodeSelector", "dnsConfig",
    "terminationGracePeriodSeconds", "serviceAccount", "hostAliases", "shareProcessNamespace",
    "runtimeClassName",
}
SPARK_DRIVER_SPEC = SPARK_POD_SPEC | {
    "podName", "coreRequest", "javaOptions", "lifecycle", "kubernetesMaster", "serviceAnnotations",
    "serviceLabels", "ports", "priorityClassName",
}
SPARK_EXECUTOR_SPEC = SPARK_POD_SPEC | {
    "instances", "coreRequest", "javaOptions", "lifecycle", "deleteOnTermination", "ports",
    "priorityClassName",
}
SPARK_DYNAMIC_ALLOCATION = {"enabled", "initialExecutors", "minExecutors", "maxExecutors", "shuffleTrackingTimeout"}
RAY_CLUSTER_SPEC = {
    "headGroupSpec", "workerGroupSpecs", "rayVersion", "enableInTreeAutoscaling", "autoscalerOptions",
    "headServiceAnnotations", "suspend", "authOptions", "gcsFaultToleranceOptions", "managedBy",
}
RAY_HEAD_GROUP = {"serviceType", "headService", "enableIngress", "rayStartParams", "template"}
RAY_WORKER_GROUP = {
    "groupName", "replicas", "minReplicas", "maxReplicas", "numOfHosts", "rayStartParams", "template",
    "scaleStrategy", "suspend", "idleTimeoutSeconds",
}
RAY_JOB_SPEC = {
    "activeDeadlineSeconds", "backoffLimit", "rayClusterSpec", "submitterPodTemplate", "metadata",
    "clusterSelector", "submitterConfig", "managedBy", "deletionStrategy", "entrypoint",
    "runtimeEnvYAML", "jobId", "submissionMode", "entrypointResources", "entrypointNumCpus",
    "entrypointNumGpus", "ttlSecondsAfterFinished", "shutdownAfterJobFinishes", "suspend", "schedule",
}


# ------------------------------------------------------------------------------------ helpers
def _docs() -> list[tuple[Path, dict]]:
    out = []
    for path in MANIFEST_FILES:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                out.append((path, doc))
    return out


DOCS = _docs()


def _of_kind(kind: str) -> list[dict]:
    return [d for _, d in DOCS if d.get("kind") == kind]


def _one(kind: str) -> dict:
    found = _of_kind(kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _containers(node) -> Iterator[dict]:
    """Every container spec anywhere in a document (containers / initContainers lists)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                yield from (c for c in value if isinstance(c, dict))
            else:
                yield from _containers(value)
    elif isinstance(node, list):
        for item in node:
            yield from _containers(item)


def _env_entries(node) -> Iterator[dict]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                yield from (e for e in value if isinstance(e, dict))
            else:
                yield from _env_entries(value)
    elif isinstance(node, list):
        for item in node:
            yield from _env_entries(item)


def _configmap_data(name: str) -> dict[str, str]:
    for cm in _of_kind("ConfigMap"):
        if cm["metadata"]["name"] == name:
            return cm.get("data") or {}
    raise AssertionError(f"ConfigMap {name} is not defined in infra/k8s")


def _spark_properties(text: str) -> dict[str, str]:
    """spark-defaults.conf: `key  value` lines, # comments."""
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            props[key] = value.strip()
    return props


def _smartmon_env_reads() -> set[str]:
    """Environment variables smartmon's code reads (os.environ.get / [] / setdefault, os.getenv
    with a literal name, in every package pyproject.toml installs), found with ast, plus the
    ${VAR}s of the cluster profile."""
    names: set[str] = set()
    packages = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]
    for path in sorted(p for pkg in packages for p in (REPO / pkg).rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                f = node.func
                if isinstance(f, ast.Attribute) and (
                    (f.attr in ("get", "setdefault") and ast.unparse(f.value) == "os.environ")
                    or ast.unparse(f) == "os.getenv"
                ):
                    names.add(node.args[0].value)
            if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                if isinstance(node.slice, ast.Constant):
                    names.add(node.slice.value)
    return names | _profile_vars()


def _profile_vars() -> set[str]:
    """The ${VAR}s in the values of the cluster profile, found with the pattern smartmon itself
    expands them with (config._VAR); comments do not count."""

    def strings(node) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)

    profile = yaml.safe_load((config.PROFILES_DIR / "cluster.yaml").read_text())
    return {m.group(1) for text in strings(profile) for m in config._VAR.finditer(text)}


def _smartmon_workloads() -> list[tuple[str, dict]]:
    """(label, container) for every container that runs smartmon with the shared settings:
    the ones that load ConfigMap smartmon-env."""
    out = []
    for path, doc in DOCS:
        kind, name = doc["kind"], doc.get("metadata", {}).get("name")
        if kind == "SparkApplication":
            out.append((f"{path.name} {kind} {name} driver", doc["spec"]["driver"]))
            continue
        for c in _containers(doc):
            if any(ref.get("configMapRef", {}).get("name") == "smartmon-env" for ref in c.get("envFrom", [])):
                out.append((f"{path.name} {kind} {name} {c['name']}", c))
    return out


def _env_names(container: dict) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    for ref in container.get("envFrom", []):
        if "configMapRef" in ref:
            names |= set(_configmap_data(ref["configMapRef"]["name"]))
    return names


# ---------------------------------------------------------------------------- manifests parse
def test_every_manifest_parses_and_names_itself():
    assert MANIFEST_FILES, "no YAML under infra/k8s or infra/schedules"
    for path, doc in DOCS:
        assert isinstance(doc, dict), path
        assert doc.get("apiVersion") and doc.get("kind"), f"{path.name}: document without apiVersion/kind"
        if doc["kind"] == "Kustomization":  # kustomize's own file, not a cluster object
            continue
        assert doc.get("metadata", {}).get("name"), f"{path.name}: {doc['kind']} without metadata.name"
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "smartmon", f"{path.name}: {doc['kind']} outside namespace smartmon"


def test_the_expected_kinds_are_there():
    kinds = {d["kind"] for _, d in DOCS}
    expected = {"CronJob", "SparkApplication", "RayCluster", "RayJob", "Deployment", "Service", "StatefulSet",
                "Namespace", "ConfigMap", "ServiceAccount", "Role", "RoleBinding", "PersistentVolumeClaim"}
    assert expected <= kinds, f"missing: {expected - kinds}"


def test_kustomization_lists_the_long_running_files_and_they_exist():
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for res in kust["resources"]:
        assert (K8S / res).is_file(), res
    # One-off runs are submitted, never applied with the rest (applying would start a run).
    assert "spark-application.yaml" not in kust["resources"] and "rayjob.yaml" not in kust["resources"]
    assert {"name": "smartmon", "newTag": VERSION} in kust["images"]


def test_substitution_variables_are_only_the_documented_ones():
    """Templates carry ${VAR}s filled by envsubst at submission; each file names its variables in
    the envsubst command of its header, and no other file has any."""
    for path in MANIFEST_FILES:
        text = path.read_text()
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", body))
        declared = set()
        for m in re.finditer(r"envsubst '([^']*)'", text):
            declared |= set(re.findall(r"\$([A-Z][A-Z0-9_]*)", m.group(1)))
        assert used == declared, f"{path.name}: variables {sorted(used)} but envsubst names {sorted(declared)}"


# ------------------------------------------------------------------------------------- images
def test_every_image_is_the_smartmon_image_of_this_version():
    seen_in = set()
    for path, doc in DOCS:
        for c in _containers(doc):
            image = c["image"]
            if doc["kind"] == "StatefulSet" and doc["metadata"]["name"] == "postgres":
                assert image.startswith("postgres:"), image
                continue
            assert image == IMAGE, f"{path.name} {doc['kind']} {c['name']}: {image} (expected {IMAGE})"
            seen_in.add(doc["kind"])
    assert {"CronJob", "RayCluster", "RayJob", "Deployment"} <= seen_in
    app = _one("SparkApplication")
    assert app["spec"]["image"] == IMAGE
    executors = _spark_properties(_configmap_data("smartmon-spark-conf")["spark-defaults.conf"])
    assert executors["spark.kubernetes.container.image"] == IMAGE
    assert f"-t {IMAGE} " in (INFRA / "docker" / "Dockerfile").read_text()


def test_engine_versions_match_the_pins():
    assert _one("RayCluster")["spec"]["rayVersion"] == _pin("ray")
    assert _one("SparkApplication")["spec"]["sparkVersion"] == _pin("pyspark")


# ------------------------------------------------------------------------------------ nightly
def test_cronjob_runs_the_nightly_for_yesterday_in_beijing_without_overlap():
    cron = _one("CronJob")
    spec = cron["spec"]
    assert spec["timeZone"] == "Asia/Shanghai"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] > 0
    job = spec["jobTemplate"]["spec"]
    assert "backoffLimit" in job and "activeDeadlineSeconds" in job
    (container,) = job["template"]["spec"]["containers"]
    command = " ".join(container["command"] + container.get("args", []))
    assert "smartmon nightly --date" in command
    assert "TZ=Asia/Shanghai date -d yesterday +%F" in command


def _crontab_entry() -> tuple[dict[str, str], list[str], str]:
    env, jobs = {}, []
    for line in (SCHEDULES / "crontab").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if re.fullmatch(r"[A-Z_]+=\S*", line):
            key, value = line.split("=", 1)
            env[key] = value
        else:
            jobs.append(line)
    assert len(jobs) == 1, jobs
    fields = jobs[0].split(None, 5)
    return env, fields[:5], fields[5]


def _dag_cron() -> tuple[str, str]:
    """The cron expression and time zone of the Airflow DAG's timetable, read with ast."""
    tree = ast.parse(DAG_FILE.read_text())
    consts = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
              for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "CronTriggerTimetable":
            tz = next(k.value for k in node.keywords if k.arg == "timezone")
            return node.args[0].value, consts[tz.id] if isinstance(tz, ast.Name) else tz.value
    raise AssertionError("no CronTriggerTimetable in the DAG")


def test_crontab_line_and_the_three_schedules_agree():
    env, when, command = _crontab_entry()
    assert len(when) == 5 and command
    assert env.get("CRON_TZ") == "Asia/Shanghai"
    assert command.startswith("flock -n ")
    assert "smartmon nightly --date" in command
    assert "TZ=Asia/Shanghai date -d yesterday +\\%F" in command  # % escaped for cron
    assert re.search(r">> \S+\.log 2>&1$", command)
    cron = _one("CronJob")["spec"]
    assert " ".join(when) == cron["schedule"] == _dag_cron()[0]
    assert env["CRON_TZ"] == cron["timeZone"] == _dag_cron()[1]


# -------------------------------------------------------------------------------- environment
def test_workloads_set_exactly_the_variables_smartmon_reads():
    reads = _smartmon_env_reads()
    profile = _profile_vars()
    workloads = _smartmon_workloads()
    labels = " ".join(label for label, _ in workloads)
    for kind in ("CronJob", "SparkApplication", "RayCluster"):
        assert kind in labels, f"no {kind} loads smartmon-env"
    for label, container in workloads:
        names = _env_names(container)
        unknown = names - reads - RAY_ENGINE_ENV
        assert not unknown, f"{label}: sets {sorted(unknown)}, which smartmon does not read"
        # smartmon.mlflow_session makes a local folder and a file:// URI of it: on a cluster the
        # tracking server decides where artifacts go (cluster profile: mlflow_artifact_root null).
        assert "SMARTMON_MLFLOW_ARTIFACTS" not in names, label
        # Inside the Ray cluster KubeRay and the job supervisor point RAY_ADDRESS at the local
        # cluster; every other workload reaches it as a client.
        in_ray = " RayCluster " in f" {label} "
        required = (profile - PROFILE_SIZING_ENV) | {"SMARTMON_PROFILE", "SMARTMON_DATA"}
        if in_ray:
            required = required - {"RAY_ADDRESS"}
            assert "RAY_ADDRESS" not in names, label
        missing = required - names
        assert not missing, f"{label}: does not set {sorted(missing)} (infra/profiles/cluster.yaml reads them)"
        if names & {"RAY_ADDRESS", "RAY_AUTH_TOKEN"} or in_ray:
            assert RAY_ENGINE_ENV <= names, f"{label}: talks to the token-protected Ray cluster without its token"
    env = _configmap_data("smartmon-env")
    assert env["SMARTMON_PROFILE"] == "cluster"


def test_secrets_are_referenced_never_written():
    for path, doc in DOCS:
        for e in _env_entries(doc):
            if re.search(r"KEY|SECRET|PASSWORD|TOKEN", e["name"]):
                assert "secretKeyRef" in e.get("valueFrom", {}), f"{path.name}: {e['name']} is not a secretKeyRef"
        if doc["kind"] == "Secret":
            raise AssertionError(f"{path.name}: a Secret in the repository ({doc['metadata']['name']})")


def test_everything_the_operator_must_create_is_in_the_readme():
    readme = (K8S / "README.md").read_text()
    defined = {cm["metadata"]["name"] for cm in _of_kind("ConfigMap")}
    for path, doc in DOCS:
        for e in _env_entries(doc):
            ref = e.get("valueFrom", {})
            for kind in ("secretKeyRef", "configMapKeyRef"):
                if kind in ref and ref[kind]["name"] not in defined:
                    name, key = ref[kind]["name"], ref[kind]["key"]
                    assert re.search(rf"create (secret generic|configmap) {name}\b", readme), f"{name} ({path.name})"
                    assert f"{key}=" in readme, f"{name}: key {key} not shown in README.md ({path.name})"


def test_spark_drivers_in_pods_get_the_client_mode_settings():
    """Pods that start a Spark driver in client mode mount smartmon-spark-conf at the image's
    SPARK_CONF_DIR, run as smartmon-spark and advertise their IP."""
    conf_dir = re.search(r"SPARK_CONF_DIR=(\S+)", (INFRA / "docker" / "Dockerfile").read_text()).group(1)
    for label, c in _smartmon_workloads():
        if "ray-worker" in label or "SparkApplication" in label:
            continue  # workers start no driver; the operator runs the SparkApplication's in cluster mode
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        assert conf_dir in mounts, f"{label}: spark-defaults not mounted at {conf_dir}"
        assert any(e["name"] == "SPARK_LOCAL_IP" and e["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
                   for e in c["env"]), label
    assert _one("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"] == "smartmon-spark"
    head = _one("RayCluster")["spec"]["headGroupSpec"]["template"]["spec"]
    assert head["serviceAccountName"] == "smartmon-spark"


# ------------------------------------------------------------------------------- Spark settings
@pytest.fixture(scope="module")
def cluster_session_conf() -> dict[str, str]:
    """smartmon.spark.base_conf() for a cluster master: the settings every session gets. The
    jar list is machine-specific (and its folder may not exist here), so it is left out."""
    import smartmon.spark as sp

    cfg = config.Settings(profile="test", spark_master="yarn", lake="hdfs:///lake", data_root=REPO,
                          landing="/landing", ray_address=None, mlflow_tracking_uri="", mlflow_artifact_root=None)
    saved = sp.delta_jars
    sp.delta_jars = lambda *a, **k: []
    try:
        conf = sp.base_conf(cfg)
    finally:
        sp.delta_jars = saved
    conf.pop("spark.jars")
    # where the metastore keeps its Derby database follows the lake and is set by each session
    for key in ("spark.hadoop.javax.jdo.option.ConnectionURL", "spark.sql.warehouse.dir", "spark.smartmon.metastore.lake"):
        conf.pop(key)
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    return conf


def _assert_same_settings(props: dict[str, str], conf: dict[str, str], where: str) -> None:
    for key, value in conf.items():
        assert key in props, f"{where}: {key} missing (smartmon/spark.py sets {value})"
        assert str(props[key]) == value, f"{where}: {key} = {props[key]}, smartmon/spark.py sets {value}"


def test_yarn_spark_defaults(cluster_session_conf):
    props = _spark_properties((INFRA / "yarn" / "spark-defaults.conf").read_text())
    _assert_same_settings(props, cluster_session_conf, "infra/yarn/spark-defaults.conf")
    assert props["spark.master"] == "yarn"
    assert props["spark.submit.deployMode"] == "client"
    assert props["spark.dynamicAllocation.enabled"] == "true"
    assert props["spark.dynamicAllocation.shuffleTracking.enabled"] == "true"
    assert props["spark.eventLog.enabled"] == "true"
    for key in ("spark.executor.cores", "spark.executor.memory", "spark.executor.memoryOverhead", "spark.driver.memory"):
        assert props[key], key


def test_kubernetes_spark_settings(cluster_session_conf):
    client = _spark_properties(_configmap_data("smartmon-spark-conf")["spark-defaults.conf"])
    _assert_same_settings(client, cluster_session_conf, "ConfigMap smartmon-spark-conf")
    app = _one("SparkApplication")["spec"]
    _assert_same_settings(app["sparkConf"], cluster_session_conf, "spark-application.yaml sparkConf")
    # The jar folders on the classpath are the ones the Dockerfile fills.
    dockerfile = (INFRA / "docker" / "Dockerfile").read_text()
    for props in (client, app["sparkConf"]):
        for key in ("spark.driver.extraClassPath", "spark.executor.extraClassPath"):
            for entry in props[key].split(":"):
                folder = entry.removesuffix("/*").removeprefix("/opt/smartmon/")
                assert f"./{folder}" in dockerfile, f"{key}: {entry} is not filled by the Dockerfile"
    assert client["spark.dynamicAllocation.shuffleTracking.enabled"] == "true"
    assert app["dynamicAllocation"]["enabled"] is True


def test_custom_resources_use_only_fields_their_api_has():
    app = _one("SparkApplication")
    assert app["apiVersion"] == "sparkoperator.k8s.io/v1beta2"
    spec = app["spec"]
    assert set(spec) <= SPARK_APP_SPEC, set(spec) - SPARK_APP_SPEC
    assert set(spec["driver"]) <= SPARK_DRIVER_SPEC, set(spec["driver"]) - SPARK_DRIVER_SPEC
    assert set(spec["executor"]) <= SPARK_EXECUTOR_SPEC, set(spec["executor"]) - SPARK_EXECUTOR_SPEC
    assert set(spec["dynamicAllocation"]) <= SPARK_DYNAMIC_ALLOCATION
    assert spec["type"] == "Python" and spec["mode"] == "cluster"
    assert spec["mainApplicationFile"] == "local:///opt/smartmon/pipelines/cli.py"
    assert (REPO / "pipelines" / "cli.py").read_text().rstrip().endswith("sys.exit(main())")
    assert spec["arguments"][:2] == ["nightly", "--date"]

    ray = _one("RayCluster")
    assert ray["apiVersion"] == "ray.io/v1"
    assert set(ray["spec"]) <= RAY_CLUSTER_SPEC
    assert set(ray["spec"]["headGroupSpec"]) <= RAY_HEAD_GROUP
    for group in ray["spec"]["workerGroupSpecs"]:
        assert set(group) <= RAY_WORKER_GROUP, set(group) - RAY_WORKER_GROUP
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]

    job = _one("RayJob")
    assert job["apiVersion"] == "ray.io/v1"
    assert set(job["spec"]) <= RAY_JOB_SPEC, set(job["spec"]) - RAY_JOB_SPEC
    assert job["spec"]["clusterSelector"] == {"ray.io/cluster": ray["metadata"]["name"]}
    assert job["spec"]["entrypoint"].startswith("smartmon scenario run --spec ")


def test_dockerfile_matches_the_repository():
    text = (INFRA / "docker" / "Dockerfile").read_text()
    requires = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert re.search(rf"PYTHON_IMAGE=python:{re.escape(requires)}\b", text)
    assert re.search(r"^USER \$\{SMARTMON_UID\}$", text, re.MULTILINE) and "SMARTMON_UID=185" in text
    assert 'ENTRYPOINT ["/opt/entrypoint.sh"]' in text
    for src in re.findall(r"^COPY (?!--from)(\S+) ", text, re.MULTILINE):
        assert (REPO / src).exists(), f"Dockerfile copies {src}, which is not in the repository"
    # The S3A connector must be built for the Hadoop that pyspark ships.
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    hadoop = {p.name.removeprefix("hadoop-client-api-").removesuffix(".jar") for p in jars.glob("hadoop-client-api-*.jar")}
    assert hadoop == set(re.findall(r"ARG HADOOP_VERSION=(\S+)", text)), hadoop
    pom = (INFRA / "jvm" / "s3a" / "pom.xml").read_text()
    assert hadoop == set(re.findall(r"<hadoop.version>(\S+)</hadoop.version>", pom)), "infra/jvm/s3a/pom.xml hadoop.version"


# ------------------------------------------------------------------------------------- Airflow
def test_airflow_dag_parses_and_has_no_top_level_side_effects():
    tree = ast.parse(DAG_FILE.read_text())
    for node in tree.body:
        ok = isinstance(node, (ast.Import, ast.ImportFrom, ast.With)) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        ) or (isinstance(node, ast.Assign) and not any(isinstance(n, ast.Call) for n in ast.walk(node.value)))
        assert ok, f"line {node.lineno}: top-level statement other than imports, constants and the DAG"
    src = DAG_FILE.read_text()
    for forbidden in ("Variable.get", "os.environ", "getenv", "open(", "BaseHook", "Connection"):
        assert forbidden not in src, forbidden
    imports = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "airflow.providers.standard.operators.bash" in imports and "airflow.sdk" in imports
    task_ids = {ast.unparse(k.value) for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "BashOperator"
                for k in n.keywords if k.arg == "task_id"}
    assert task_ids == {"name", "'status'"}  # a task per generated job, and the status check
    assert "TaskGroup(group_id=f\"{layer}_jobs\"" in src
    # The executable comes from the smartmon_bin template; the subcommands are fixed.
    assert "} nightly --date " in src and "--only {name}" in src and "} status --date " in src
    # The generated job list is the graph's (make schedules), so the DAG has one task per job.
    from pipelines import schedules

    assert schedules.main(["--check"]) == 0, "infra/schedules/airflow_nightly.py is stale: run `make schedules`"
    args = build_parser_args(["nightly", "--date", "2019-01-31", "--only", "gold.aqi_daily"])
    assert args.only == ["gold.aqi_daily"]
    # ... and the CLI takes what the DAG passes (status decides the task by its exit code).
    from pipelines.cli import build_parser

    args = build_parser().parse_args(["status", "--date", "2019-01-31", "--limit", "200"])
    assert str(args.date) == "2019-01-31" and args.limit == 200


def build_parser_args(argv: list[str]):
    from pipelines.cli import build_parser

    return build_parser().parse_args(argv)


_DAGBAG_CHECK = """
import inspect, json, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag
kwargs = {"include_examples": False} if "include_examples" in inspect.signature(DagBag).parameters else {}
bag = DagBag(dag_folder=sys.argv[1], **kwargs)
dag = bag.dags.get(sys.argv[2])
groups = {}
if dag:
    for t in dag.tasks:
        groups.setdefault(t.task_group.group_id if t.task_group and t.task_group.group_id else "", []).append(t.task_id)
print(json.dumps({"errors": {str(k): str(v) for k, v in bag.import_errors.items()},
                  "tasks": sorted(dag.task_ids) if dag else None,
                  "upstream": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks} if dag else None,
                  "groups": groups,
                  "commands": {t.task_id: t.bash_command for t in dag.tasks} if dag else None,
                  "max_active_runs": dag.max_active_runs if dag else None}))
"""


def _check_dagbag(result: dict) -> None:
    """Airflow loaded the DAG with one task per job, grouped by layer, wired as the graph says."""
    from pipelines.definitions import graph

    assert result["errors"] == {}, result["errors"]
    assert set(result["tasks"] or []) == _dag_tasks()
    assert result["max_active_runs"] == 1
    g = graph()
    for step in g.steps:
        assert set(step.after) <= set(result["upstream"][step.job.name]), step.job.name
        assert step.job.name in result["groups"][f"{step.job.layer}_jobs"]
        assert f"--only {step.job.name}" in result["commands"][step.job.name]
    assert set(result["upstream"]["status"]) == set(g.order)


def test_airflow_dag_loads_in_airflow(tmp_path, monkeypatch, capsys):
    """In-process, when this environment has Airflow (`make test` does not install it)."""
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    pytest.importorskip("airflow")
    import sys

    monkeypatch.setattr(sys, "argv", ["check", str(DAG_FILE), DAG_ID])
    exec(compile(_DAGBAG_CHECK, "dagbag-check", "exec"), {})
    _check_dagbag(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))


AIRFLOW_VENV_PYTHON = REPO / ".venv-airflow" / "bin" / "python"


@pytest.mark.heavy
@pytest.mark.skipif(not AIRFLOW_VENV_PYTHON.exists(), reason="no .venv-airflow (made by `make airflow-check`)")
def test_airflow_dag_loads_in_the_airflow_venv(tmp_path):
    """`make test-all`: Airflow 3 in its own venv (it is too heavy for .venv), about 10 s."""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    out = subprocess.run([str(AIRFLOW_VENV_PYTHON), "-c", _DAGBAG_CHECK, str(DAG_FILE), DAG_ID],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    _check_dagbag(json.loads(out.stdout.strip().splitlines()[-1]))


def test_crontab_command_is_valid_shell():
    _, _, command = _crontab_entry()
    shlex.split(command.replace("\\%", "%"))  # balanced quotes
