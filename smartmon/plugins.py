"""Plug-in modules: sources and jobs that live outside the repository.

`SMARTMON_PLUGINS` names importable modules, comma-separated. Each may define source adapters
(module attributes that satisfy `jobs.bronze.adapter.SourceAdapter`, or the module itself) and
jobs (`JOB` or `JOBS`); they join the built-in ones everywhere the declarations are read:
ingest, the silver jobs, `smartmon nightly --plan`, the CLI and the Airflow DAG.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from smartmon.errors import ConfigError

ENV = "SMARTMON_PLUGINS"


def plugin_names() -> tuple[str, ...]:
    return tuple(n.strip() for n in os.environ.get(ENV, "").split(",") if n.strip())


def plugin_modules() -> list[ModuleType]:
    """The plug-in modules, imported; a name that does not import is a configuration error."""
    out = []
    for name in plugin_names():
        try:
            out.append(importlib.import_module(name))
        except ImportError as exc:
            raise ConfigError(f"{ENV}: plug-in module {name!r} does not import: {exc}") from exc
    return out
