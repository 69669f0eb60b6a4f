"""Consultation (会商) reports per tier and period: HTML and Markdown with H3 hex maps and
charts, built from the lake's gold tables with delta-rs (no Spark). Entry point: build_report."""

from smartmon.report.area import (
    Area,
    Period,
    UnknownAreaError,
    make_period,
    resolve_area,
)
from smartmon.report.build import ReportResult, build_report

__all__ = ["Area", "Period", "ReportResult", "UnknownAreaError", "build_report", "make_period", "resolve_area"]
