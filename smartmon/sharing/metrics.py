"""Prometheus metrics of the sharing server, in a registry of its own per app.

Labels are bounded on purpose: the route template (never the raw path, which holds table and
file names without limit), the status, the refusal's errorCode, the shared table (the share
file bounds them) and the report tier. Recipient names are left out: /metrics is unauthenticated
and the access log already answers who read what.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from smartmon.sharing.provider import Provider

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _StateCollector(Collector):
    """Recipients by status and shared tables, read from the provider at scrape time."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def collect(self) -> Iterable[GaugeMetricFamily]:
        shares = self.provider.shares.shares
        tables = GaugeMetricFamily("smartmon_sharing_shared_tables", "tables in the share file, by share", labels=["share"])
        for s in shares:
            tables.add_metric([s.name], len(s.tables))
        yield tables
        recipients = GaugeMetricFamily("smartmon_sharing_recipients", "recipients by status", labels=["status"])
        try:
            counts = {"active": 0, "expired": 0, "revoked": 0}
            for r in self.provider.recipients.list():
                counts[r.status()] += 1
        except Exception:  # noqa: BLE001 - a damaged recipients file shows in /healthz; /metrics still answers
            log.exception("recipients not counted for /metrics")
            return
        for status, n in counts.items():
            recipients.add_metric([status], n)
        yield recipients


class SharingMetrics:
    """The server's counters; `registry` is what /metrics exposes."""

    def __init__(self, provider: Provider, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        reg = self.registry
        self.requests = Counter("smartmon_sharing_requests", "requests answered, by route, method and status",
                                ["endpoint", "method", "status"], registry=reg)
        self.latency = Histogram("smartmon_sharing_request_duration_seconds", "time to answer a request, by route",
                                 ["endpoint"], buckets=LATENCY_BUCKETS, registry=reg)
        self.refusals = Counter("smartmon_sharing_refusals", "requests refused (4xx), by the errorCode of the answer",
                                ["reason"], registry=reg)
        self.queries = Counter("smartmon_sharing_table_queries", "table queries answered, by layer.table", ["table"], registry=reg)
        self.rows = Counter("smartmon_sharing_rows_served", "rows in the files listed by table queries", ["table"], registry=reg)
        self.files = Counter("smartmon_sharing_files_listed", "data files listed by table queries", ["table"], registry=reg)
        self.file_bytes = Counter("smartmon_sharing_file_bytes", "bytes of data files served through signed URLs",
                                  ["table"], registry=reg)
        self.reports = Counter("smartmon_sharing_reports_served", "consultation report files served, by report tier",
                               ["tier"], registry=reg)
        reg.register(_StateCollector(provider))

    def observe(self, *, endpoint: str, method: str, status: int, seconds: float, error_code: str | None,
                table: str | None, rows: int | None, files: int | None, nbytes: int | None) -> None:
        """Count one answered request (the access-log middleware calls this with what it logs)."""
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)
        if 400 <= status < 500:
            self.refusals.labels(error_code or str(status)).inc()
        if not table or status not in (200, 206):
            return
        if rows is not None:  # a query's answer
            self.queries.labels(table).inc()
            self.rows.labels(table).inc(rows)
            self.files.labels(table).inc(files or 0)
        elif nbytes and endpoint.startswith("/files/"):
            self.file_bytes.labels(table).inc(nbytes)
