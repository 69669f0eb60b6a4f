"""What every `smartmon` subcommand module shares: the lake of the configured profile and the
date argument type. Kept apart from pipelines.cli so the subcommand modules need not import it
(pipelines.cli imports them)."""

from __future__ import annotations

import argparse
from datetime import date

from smartmon.io import Lake


def open_lake() -> Lake:
    """The lake of the configured profile, with a Spark session (started on first use)."""
    from smartmon.spark import get_spark

    return Lake(get_spark())


def parse_date(text: str) -> date:
    """An argparse type: YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc
