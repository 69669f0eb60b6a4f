"""The data provider: who may read what, and which files answer a query.

Every decision the server makes about a request is here, independent of HTTP, so it can be
tested and reused (a CLI listing, another transport): authorisation against the recipient's
grants and area, the row rule of each table, the files served (the table's own for the
nation, filtered copies for any other area), and which consultation reports a recipient reads.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from deltalake import DeltaTable

from smartmon.catalog.names import SILVER_STATIONS
from smartmon.sharing.access_log import AccessLog
from smartmon.sharing.cache import ScopedCache, ServedFile, original_files
from smartmon.sharing.errors import NotFound, PermissionDenied, SharingError
from smartmon.sharing.recipients import Recipient, RecipientStore
from smartmon.sharing.reports import URL_PREFIX, ReportEntry, ReportRef, ReportShelf, parse_report_path
from smartmon.sharing.scoping import ADMIN_COLUMNS, RowRule, StationIndex, resolve_rule
from smartmon.sharing.shares import Share, ShareConfig, SharedTable
from smartmon.sharing.signing import DEFAULT_TTL_SECONDS, UrlSigner, load_or_create_key
from smartmon.sharing.snapshots import Snapshot, open_snapshot, table_root

log = logging.getLogger(__name__)

STATE_DIR = "_sharing"
STATIONS = SILVER_STATIONS


@dataclass(frozen=True)
class QueryResult:
    snapshot: Snapshot
    rule: RowRule
    files: list[ServedFile]


class Provider:
    def __init__(self, lake_root: Path, shares: ShareConfig, *, url_ttl: int = DEFAULT_TTL_SECONDS,
                 reports_dir: Path | None = None) -> None:
        self.lake_root = Path(lake_root)
        self.state_dir = self.lake_root / STATE_DIR
        self.shares = shares
        self.recipients = RecipientStore(self.state_dir)
        self.cache = ScopedCache(self.lake_root, self.state_dir / "cache")
        self.signer = UrlSigner(load_or_create_key(self.state_dir), url_ttl)
        self.access_log = AccessLog(self.state_dir / "access_log")
        self.reports = ReportShelf(reports_dir)
        self._stations: StationIndex | None = None
        self._stations_lock = threading.Lock()

    # ------------------------------------------------------------ shares and tables
    def shares_for(self, r: Recipient) -> list[Share]:
        return [s for s in self.shares.shares if s.name in r.shares]

    def share_for(self, r: Recipient, name: str) -> Share:
        share = self.shares.share(name)
        if share.name not in r.shares:
            raise PermissionDenied(f"share {share.name} is not shared with recipient {r.name}")
        return share

    def rule_of(self, t: SharedTable, columns: tuple[str, ...]) -> RowRule:
        return resolve_rule(columns, t.rule, t.fqn)

    def listed_rule(self, t: SharedTable) -> RowRule | None:
        """The table's rule for listings: declared, or from its columns; None while the table is not built."""
        try:
            return self.rule_of(t, open_snapshot(self.lake_root, t.fqn, with_files=False).columns)
        except NotFound:
            return t.rule

    def tables_for(self, r: Recipient, share: Share, schema: str | None = None) -> list[SharedTable]:
        """The tables of a share the recipient can read; national-only tables are left out for other areas."""
        out = []
        for t in share.tables:
            if not ((schema is None or t.schema == schema.lower()) and r.may_read(share.name, t.fqn)):
                continue
            if r.area.is_national:
                out.append(t)
                continue
            try:
                rule = self.listed_rule(t)
            except SharingError as exc:  # a misdeclared table must not break the listing: leave it out
                log.warning("%s left out of the listing for %s: %s", t.fqn, r.name, exc)
                continue
            if not (rule and rule.national_only):
                out.append(t)
        return out

    def table_for(self, r: Recipient, share: str, schema: str, table: str) -> SharedTable:
        t = self.shares.table(share, schema, table)
        self.share_for(r, t.share)
        if not r.may_read(t.share, t.fqn):
            raise PermissionDenied(f"{t.fqn} is in share {t.share} but not granted to recipient {r.name} "
                                   f"(granted: {', '.join(r.tables)})")
        return t

    def snapshot(self, r: Recipient, t: SharedTable, *, version: int | None = None, timestamp: str | None = None,
                 with_files: bool = False) -> tuple[Snapshot, RowRule]:
        """The table's snapshot and row rule, refusing national-only tables to other areas."""
        snap = open_snapshot(self.lake_root, t.fqn, version=version, timestamp=timestamp, with_files=with_files)
        rule = self.rule_of(t, snap.columns)
        if rule.national_only and not r.area.is_national:
            raise PermissionDenied(f"{t.fqn} is shared with national recipients only: its rows carry no admin code or "
                                   f"station to place them in {r.area}")
        return snap, rule

    # ------------------------------------------------------------ data
    def stations(self) -> StationIndex | None:
        """silver.stations as an index, re-read when its version changes; None when it is not built."""
        root = table_root(self.lake_root, STATIONS)
        if not DeltaTable.is_deltatable(str(root)):
            log.warning("%s is not built: rows placed through stations go to national recipients only", STATIONS)
            return None
        dt = DeltaTable(str(root))
        with self._stations_lock:
            if self._stations is None or self._stations.version != dt.version():
                cols = ["station_id", *(c for c in ADMIN_COLUMNS if c in {f.name for f in dt.schema().fields})]
                self._stations = StationIndex(dt.to_pyarrow_table(columns=cols), dt.version())
            return self._stations

    def query(self, r: Recipient, t: SharedTable, *, version: int | None = None, timestamp: str | None = None,
              limit_hint: int | None = None) -> QueryResult:
        """The files that answer a query: the originals for the nation, the area's filtered copies otherwise."""
        snap, rule = self.snapshot(r, t, version=version, timestamp=timestamp, with_files=True)
        if r.area.is_national:
            files = original_files(snap)
        else:
            files = self.cache.files(snap, rule, r.area, self.stations() if rule.needs_stations else None)
        return QueryResult(snap, rule, _limit(files, limit_hint))

    def file_url(self, base_url: str, r: Recipient, f: ServedFile) -> str:
        return self.signer.sign(base_url, f.relpath, r.name)

    def check_file(self, relpath: str, recipient: str, expires: str, sig: str) -> Path:
        """The local file behind a signed URL. Beyond the signature, the file must still be one the
        recipient may read now: a data file of a table granted to it, or its own area's cache, so a
        revoke or a narrowed grant also ends the URLs already handed out."""
        self.signer.verify(relpath, recipient, expires, sig)
        r = self.recipients.get_active(recipient)
        parts = Path(relpath).parts
        if not parts or Path(relpath).is_absolute() or ".." in parts or not relpath.endswith(".parquet"):
            raise PermissionDenied(f"file path {relpath!r} is not a data file inside the lake")
        if parts[0] == STATE_DIR:
            ok = len(parts) == 5 and parts[1] == "cache" and parts[3] == r.area.key and self._granted(r, parts[2])
        else:
            ok = r.area.is_national and len(parts) > 2 and "_delta_log" not in parts and self._granted(r, f"{parts[0]}.{parts[1]}")
        if not ok:
            raise PermissionDenied(f"file {relpath} is outside what recipient {r.name} may read ({r.area})")
        path = self.lake_root / relpath  # not resolved: tables may be symlinked or mounted into the lake
        if not path.is_file():
            raise NotFound(f"file {relpath} no longer exists (vacuumed?): query the table again")
        return path

    def _granted(self, r: Recipient, fqn: str) -> bool:
        return any(r.may_read(share, fqn) for share in self.shares.shares_with(fqn))

    # ------------------------------------------------------------ consultation reports
    def check_reports_grant(self, r: Recipient) -> None:
        """Reports go with a whole share that declares them (`reports: true`); a grant narrowed to
        some tables does not include them, since a report sums up many tables."""
        with_reports = [s.name for s in self.shares.shares if s.reports]
        if not any(name in r.shares for name in with_reports):
            raise PermissionDenied(f"recipient {r.name} is not granted the reports: they go with share(s) "
                                   f"{', '.join(with_reports) or '(none declares reports: true)'}")
        if r.tables:
            raise PermissionDenied(f"recipient {r.name} is granted some tables only ({', '.join(r.tables)}), "
                                   "not the reports, which sum up many tables")

    def reports_for(self, r: Recipient, tier: str | None = None) -> list[ReportEntry]:
        """The reports (of one tier, or all) the recipient may read."""
        self.check_reports_grant(r)
        return [e for e in self.reports.entries(tier) if e.ref.visible_to(r.area)]

    def report_file(self, r: Recipient, area: str, run: str, name: str) -> tuple[ReportRef, Path]:
        """A report's file for the recipient: refused (403) outside its area before the file is
        looked for, so a refusal does not tell whether another area's report exists."""
        ref = parse_report_path(area, run, name)
        self.check_reports_grant(r)
        if not ref.visible_to(r.area):
            raise PermissionDenied(f"report {ref.relpath} covers {ref.area_key}, outside the area of recipient "
                                   f"{r.name} ({r.area})")
        return ref, self.reports.file(ref, name)

    def report_query(self, r: Recipient, ref: ReportRef, name: str) -> str:
        """The signed query string of a report file's link, so a browser (which cannot send the
        bearer token) can open the report and its images for the URL lifetime."""
        return self.signer.query(f"{URL_PREFIX}/{ref.relpath}/{name}", r.name)

    def check_report_link(self, area: str, run: str, name: str, recipient: str, expires: str, sig: str) -> Recipient:
        """The recipient of a signed report link; it must still be active."""
        self.signer.verify(f"{URL_PREFIX}/{area}/{run}/{name}", recipient, expires, sig)
        return self.recipients.get_active(recipient)


def _limit(files: list[ServedFile], limit_hint: int | None) -> list[ServedFile]:
    """Best-effort limitHint: stop once the files hold enough rows (all files when a count is unknown)."""
    if limit_hint is None or any(f.rows is None for f in files):
        return files
    out, rows = [], 0
    for f in files:
        if rows >= limit_hint:
            break
        out.append(f)
        rows += f.rows or 0
    return out
