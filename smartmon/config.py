"""Settings resolved from a profile file plus the environment.

Switching between one machine and a cluster is configuration, never a code edit: a profile
(infra/profiles/<name>.yaml, or any file named by SMARTMON_PROFILE) gives the defaults and the
environment overrides single values (SMARTMON_LAKE, SMARTMON_DATA, RAY_ADDRESS, ...).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from smartmon.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
# A checkout (smartmon installed editable, as `make setup` does) finds everything beside the code;
# installed from the wheel, the configuration files come from the wheel's data (<prefix>/share/smartmon,
# pyproject's data-files), the jars from $SMARTMON_JARS, and relative paths are the working directory's.
CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "infra" / "profiles").is_dir()
INFRA_DIR = REPO_ROOT / "infra" if CHECKOUT else Path(sys.prefix) / "share" / "smartmon" / "infra"
PROFILES_DIR = INFRA_DIR / "profiles"
JARS_DIR = Path(os.environ["SMARTMON_JARS"]) if os.environ.get("SMARTMON_JARS") else REPO_ROOT / "infra" / "jvm" / "jars"
S3_JARS_DIR = Path(os.environ["SMARTMON_S3_JARS"]) if os.environ.get("SMARTMON_S3_JARS") else REPO_ROOT / "infra" / "jvm" / "jars-s3a"
SAMPLE_DATA = REPO_ROOT / "data" / "sample"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def base_dir() -> Path:
    """What relative paths (the lake, MLflow's store, reports) are relative to: the checkout's root,
    so they do not depend on the caller's cwd; installed from the wheel, the working directory."""
    return REPO_ROOT if CHECKOUT else Path.cwd()

_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


def _expand(value: Any) -> Any:
    """Expand ${VAR} / ${VAR:-default} so one cluster profile fits every deployment."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    return value


def _absolute(uri: str) -> str:
    """Relative paths in a profile are relative to base_dir()."""
    if "://" in uri or uri.startswith("/"):
        return uri
    return str((base_dir() / uri).resolve())


def is_local_uri(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def local_dir(uri: str) -> Path:
    """A local URI (a path or file://...) as a folder; callers check is_local_uri first."""
    return Path(uri.removeprefix("file://"))


@dataclass(frozen=True)
class Settings:
    """Everything a job needs to know about where it runs."""

    profile: str
    spark_master: str
    lake: str
    data_root: Path
    landing: str
    ray_address: str | None
    mlflow_tracking_uri: str
    mlflow_artifact_root: str | None
    spark_conf: dict[str, str] = field(default_factory=dict)
    parse_on: str = "auto"  # where landing files are parsed: auto (executors on a cluster), driver, executors
    metastore: str = ""  # folder of the embedded (Derby) metastore that names the lake's tables; see metastore_dir

    @property
    def metastore_dir(self) -> Path:
        """Where the embedded metastore keeps its Derby database: the profile's or $SMARTMON_METASTORE,
        else inside a local lake (it moves and is deleted with it), else a folder of the user's cache
        keyed by the lake URI (Derby cannot live on an object store)."""
        if self.metastore:
            return Path(self.metastore).expanduser().resolve()
        if is_local_uri(self.lake):
            return local_dir(self.lake) / "_catalog"
        key = hashlib.sha1(self.lake.encode()).hexdigest()[:12]
        return Path.home() / ".cache" / "smartmon" / "metastore" / key

    def table_path(self, layer: str, name: str) -> str:
        """Tables live at <lake>/<layer>/<table>."""
        return f"{self.lake.rstrip('/')}/{layer}/{name}"

    def landing_dir(self) -> Path:
        """The landing zone as a folder. The driver lists and hashes landing files (and on a cluster
        the executors parse them at the same path), so an object-store URI is refused here (it used
        to be skipped unseen, as a folder that is not there)."""
        if not is_local_uri(self.landing):
            raise ConfigError(f"landing zone {self.landing} (profile {self.profile}) is not a local folder: the source "
                              "driver lists landing files and the executors parse them; mount it on both and set SMARTMON_LANDING to the mount point")
        return local_dir(self.landing)

    @property
    def is_local(self) -> bool:
        return self.spark_master.startswith("local")

    @property
    def parses_on_executors(self) -> bool:
        """On a cluster the executors parse the landing files (the driver would be the bottleneck);
        on one machine the driver's Arrow readers and delta-rs cost less than Spark tasks."""
        return self.parse_on == "executors" or (self.parse_on == "auto" and not self.is_local)


def default_data_root() -> Path:
    """The full shared data where it exists, else the small real sample bundled in the repo."""
    env = os.environ.get("SMARTMON_DATA")
    if env:
        path = Path(env).expanduser().resolve()
        if not path.is_dir():
            raise ConfigError(f"SMARTMON_DATA={env} is not a directory")
        return path
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    return SAMPLE_DATA


def _profile_file(name_or_path: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))
        raise ConfigError(f"unknown profile {name_or_path!r}: use one of {known} or a path to a .yaml file")
    return path


def load_settings(profile: str | None = None) -> Settings:
    """Resolve settings: profile file first, then single-value environment overrides."""
    name = profile or os.environ.get("SMARTMON_PROFILE", "local")
    path = _profile_file(name)
    try:
        raw = _expand(yaml.safe_load(path.read_text()) or {})
    except yaml.YAMLError as exc:
        raise ConfigError(f"profile {path} is not valid YAML: {exc}") from exc
    lake = os.environ.get("SMARTMON_LAKE") or raw.get("lake") or "./lake"
    lake = _absolute(lake)
    landing = os.environ.get("SMARTMON_LANDING") or raw.get("landing") or f"{lake}/_landing"
    tracking = os.environ.get("MLFLOW_TRACKING_URI") or raw.get("mlflow_tracking_uri") or ""
    if tracking.startswith("sqlite:///./"):
        tracking = "sqlite:///" + _absolute(tracking[len("sqlite:///"):])
    artifacts = os.environ.get("SMARTMON_MLFLOW_ARTIFACTS") or raw.get("mlflow_artifact_root")
    return Settings(
        profile=path.stem,
        spark_master=os.environ.get("SPARK_MASTER") or raw.get("spark_master") or "local[*]",
        lake=lake,
        data_root=default_data_root(),
        landing=_absolute(landing),
        ray_address=os.environ.get("RAY_ADDRESS") or raw.get("ray_address") or None,
        mlflow_tracking_uri=tracking,
        mlflow_artifact_root=_absolute(artifacts) if artifacts else None,
        spark_conf={str(k): str(v) for k, v in (raw.get("spark_conf") or {}).items()},
        parse_on=_parse_on(os.environ.get("SMARTMON_PARSE_ON") or raw.get("parse_on") or "auto"),
        metastore=os.environ.get("SMARTMON_METASTORE") or raw.get("metastore") or "",
    )


def _parse_on(value: str) -> str:
    if value not in ("auto", "driver", "executors"):
        raise ConfigError(f"parse_on (SMARTMON_PARSE_ON) is {value!r}: use auto, driver or executors")
    return value


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Process-wide settings; tests call settings.cache_clear() after changing the environment."""
    return load_settings()
