"""The consultation reports (会商报告) as the sharing server serves them, behind the recipients'
tokens and areas.

smartmon.report writes each report to `<reports>/<tier>-<code>/<period>-<label>/` (report.html,
report.md and its PNGs; docs/reports.md). A report covers one area, so a recipient sees it
exactly when a row placed at the report's code would be visible to it: a province its own
report and its cities', a city its own, the nation every report. The nation's report (000000)
is national only, like the nation's aggregate rows. Paths are checked against that layout
before any file is touched, so a request can never reach outside the reports folder.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from smartmon.config import base_dir
from smartmon.sharing.areas import Area
from smartmon.sharing.errors import NotFound

log = logging.getLogger(__name__)

TIERS = ("national", "province", "city")  # smartmon report's tiers (the recipients' tier is `nation`)
_AREA = re.compile(r"^(national|province|city)-(\d{6})$")
_RUN = re.compile(r"^(day|month)-(\d{4}-\d{2}(?:-\d{2})?)$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}\.(html|md|png)$")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8", "png": "image/png"}
URL_PREFIX = "reports"  # signed report links sign "reports/<area>/<run>/<file>": never a lake path


def default_reports_dir() -> Path:
    """Where the nightly and `smartmon report` write: $SMARTMON_REPORTS_DIR, else reports/ in the repo."""
    env = os.environ.get("SMARTMON_REPORTS_DIR")
    return Path(env) if env else base_dir() / "reports"


@dataclass(frozen=True, order=True)
class ReportRef:
    """One report: its area (tier, code) and its period (day or month, and the label)."""

    tier: str
    code: str
    period: str
    label: str

    @property
    def area_key(self) -> str:
        return f"{self.tier}-{self.code}"

    @property
    def run(self) -> str:
        return f"{self.period}-{self.label}"

    @property
    def relpath(self) -> str:
        return f"{self.area_key}/{self.run}"

    def visible_to(self, area: Area) -> bool:
        """Whether a recipient of `area` may read it: the nation everything; others the reports
        whose code lies in their area (never the national report)."""
        if area.is_national:
            return True
        return self.tier != "national" and area.contains(self.code)


def parse_report_path(area: str, run: str, name: str | None = None) -> ReportRef:
    """The report a URL names; NotFound when it does not follow the reports' layout."""
    a, r = _AREA.match(area), _RUN.match(run)
    if not (a and r) or (name is not None and not _FILE.match(name)):
        shown = "/".join(x for x in (area, run, name) if x is not None)
        raise NotFound(f"no report file {shown}: reports are /reports/<national|province|city>-<code>/<day|month>-<date>/"
                       "report.html (see the index at /reports/)")
    return ReportRef(a.group(1), a.group(2), r.group(1), r.group(2))


@dataclass(frozen=True)
class ReportEntry:
    ref: ReportRef
    title: str
    files: tuple[str, ...]


class ReportShelf:
    """The reports folder as a list of reports; titles are read once per report.md version."""

    def __init__(self, root: Path | None) -> None:
        self.root = Path(root) if root else None
        self._titles: dict[Path, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def entries(self, tier: str | None = None) -> list[ReportEntry]:
        """Every report of the tier (all tiers with None), by area then newest period first."""
        if self.root is None or not self.root.is_dir():
            return []
        out = []
        for area_dir in self.root.iterdir():
            if not (area_dir.is_dir() and _AREA.match(area_dir.name)) or (tier and not area_dir.name.startswith(tier + "-")):
                continue
            for run_dir in area_dir.iterdir():
                if not (run_dir.is_dir() and _RUN.match(run_dir.name)):
                    continue
                files = tuple(sorted(f.name for f in run_dir.iterdir() if _FILE.match(f.name) and f.is_file()))
                if "report.html" not in files and "report.md" not in files:
                    continue  # a report still being written, or something else
                ref = parse_report_path(area_dir.name, run_dir.name)
                out.append(ReportEntry(ref, self._title(run_dir, ref), files))
        return sorted(out, key=lambda e: (TIERS.index(e.ref.tier), e.ref.code, e.ref.period, _desc(e.ref.label)))

    def file(self, ref: ReportRef, name: str) -> Path:
        """The file of a report; NotFound when it is not there."""
        if not _FILE.match(name):
            raise NotFound(f"no report file {ref.relpath}/{name}")
        path = (self.root / ref.relpath / name) if self.root else None
        if path is None or not path.is_file():
            raise NotFound(f"no report file {ref.relpath}/{name} (see the index at /reports/{ref.tier}/)")
        return path

    def _title(self, folder: Path, ref: ReportRef) -> str:
        """The report's heading (the first line of report.md), else its folder name."""
        md = folder / "report.md"
        try:
            stamp = md.stat().st_mtime_ns
        except OSError:
            return ref.relpath
        with self._lock:
            cached = self._titles.get(md)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            with open(md, encoding="utf-8") as fh:
                first = fh.readline().strip()
        except (OSError, UnicodeDecodeError):
            log.warning("%s: cannot read its title", md)
            return ref.relpath
        title = first.lstrip("#").strip() or ref.relpath
        with self._lock:
            self._titles[md] = (stamp, title)
        return title


def _desc(label: str) -> tuple[int, ...]:
    """Sort key putting later periods first."""
    return tuple(-int(x) for x in label.split("-"))
