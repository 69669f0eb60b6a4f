"""The QC rule book: rules.yaml loaded once, validated, with its version.

Thresholds live in data, not code, so a change is reviewable and every flag can name the
version of the rules that raised it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from smartmon.errors import ConfigError

RULES_FILE = Path(__file__).with_name("rules.yaml")
LEVELS = ("INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Rules:
    version: str
    air: dict[str, Any]
    water: dict[str, Any]
    device: dict[str, Any]
    screening: dict[str, Any]

    def device_flag(self, code: str) -> tuple[str, str] | None:
        """(level, meaning) of an HJ 212 data flag, None for normal data."""
        entry = self.device["flags"].get(code.upper())
        return (entry[0], entry[1]) if entry else None


@cache
def load_rules(path: Path = RULES_FILE) -> Rules:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules = Rules(str(raw["version"]), raw["air"], raw["water"], raw["device"], raw["screening"])
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not a valid QC rule book ({exc})") from exc
    for code, (level, _meaning) in rules.device["flags"].items():
        if level not in LEVELS:
            raise ConfigError(f"{path}: device flag {code} has level {level!r}; use one of {LEVELS}")
    return rules
