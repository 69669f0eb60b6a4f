"""Fresh virtual environments for the tests that install smartmon's artefacts as a user would (the
wheel, a logged model): made with the uv that `make setup` pins, their packages resolved against
uv.lock's versions so they come from uv's cache, not from whatever the registry has newest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from smartmon.config import REPO_ROOT

UV = REPO_ROOT / ".venv-uv" / "bin" / "uv"


def uv_env() -> dict[str, str]:
    """The environment for uv and for the new venv's programs: nothing of the suite's own venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    return dict(env, UV_SYSTEM_CERTS="1")


def fresh_venv(folder: Path, *requirements: str, timeout: float = 900) -> Path:
    """A new venv at folder with `requirements` (uv pip install arguments) and their dependencies
    at uv.lock's versions; returns its bin/ folder."""
    assert UV.exists(), "make setup installs uv into .venv-uv"
    env = uv_env()
    subprocess.run([str(UV), "venv", "-q", str(folder), "--python", f"{sys.base_prefix}/bin/python3"], check=True, env=env, timeout=120)
    lock = subprocess.run([str(UV), "export", "--frozen", "--no-hashes", "--all-extras", "--no-emit-project", "-q"],
                          cwd=REPO_ROOT, check=True, capture_output=True, text=True, env=env, timeout=120).stdout
    constraints = folder / "uv-lock-constraints.txt"
    constraints.write_text(lock)
    done = subprocess.run([str(UV), "pip", "install", "-q", "--python", str(folder / "bin" / "python"), *requirements,
                           "-c", str(constraints)], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "bin"


def activated(bin_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a shell that activated the venv (programs started by name, e.g. MLflow's
    uvicorn, are the venv's)."""
    env = uv_env()
    return dict(env, PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(bin_dir.parent), **extra)
