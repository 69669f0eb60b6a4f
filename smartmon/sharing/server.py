"""The Delta Sharing REST server (open protocol, bearer tokens) over the lake.

Routes follow PROTOCOL.md of delta-io/delta-sharing under the prefix `/delta-sharing` (the
profile file's endpoint), answering in the Parquet response format; data files are served by the
same server at `/files/...` through signed URLs, since the lake is a local or mounted folder and
not an object store that could pre-sign them. Every request, refused or not, is written to the
access log with the recipient, table, status and what was served.

Beside the protocol: the consultation reports under `/reports/` behind the same tokens and areas
(an index page per tier, each file checked against the recipient's area), `/healthz` and a
Prometheus `/metrics` (neither authenticated nor access-logged: probes and scrapes would drown
the log), and TLS when `serve`/`running` are given a certificate and key.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import uvicorn
from fastapi import Body, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from smartmon.errors import SmartmonError
from smartmon.service import render_metrics, run_health, tls_context
from smartmon.sharing.errors import InvalidRequest, NotFound, SharingError, Unauthenticated
from smartmon.sharing.metrics import SharingMetrics
from smartmon.sharing.provider import STATE_DIR, Provider
from smartmon.sharing.recipients import Recipient
from smartmon.sharing.reports import MEDIA_TYPES, TIERS, ReportEntry
from smartmon.sharing.shares import SharedTable

log = logging.getLogger(__name__)

PREFIX = "/delta-sharing"
NDJSON = "application/x-ndjson; charset=utf-8"
TABLE = PREFIX + "/shares/{share}/schemas/{schema}/tables/{table}"
REPORTS = "/reports"
PROBES = ("/healthz", "/metrics")  # counted in /metrics, not written to the access log
# reports are our own self-contained pages: no script, nothing from elsewhere, images from here only
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
                "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
_RELATIVE_LINK = re.compile(r'\b(src|href)="([A-Za-z0-9][A-Za-z0-9_.-]*\.(?:png|html|md))"')


class QueryBody(BaseModel):
    """The query request body; hints the protocol allows a server to ignore are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    predicateHints: list[str] | None = None
    jsonPredicateHints: str | None = None
    limitHint: int | None = None
    version: int | None = None
    timestamp: str | None = None
    startingVersion: int | None = None
    endingVersion: int | None = None


def _error(status: int, code: str, message: str, request: Request | None = None) -> JSONResponse:
    if request is not None:  # for the refusal counter of /metrics
        request.state.error_code = code
    return JSONResponse({"errorCode": code, "message": message}, status_code=status)


def _page(items: list[dict], max_results: int | None, page_token: str | None) -> dict:
    """Offset pagination: the token is the index of the next item."""
    if max_results is not None and max_results < 0:
        raise InvalidRequest(f"maxResults must be non-negative, got {max_results}")
    try:
        start = int(page_token) if page_token else 0
    except ValueError as exc:
        raise InvalidRequest(f"pageToken {page_token!r} was not issued by this server") from exc
    end = len(items) if max_results is None else min(len(items), start + max_results)
    body: dict = {"items": items[start:end]}
    if end < len(items):
        body["nextPageToken"] = str(end)
    return body


def _table_item(t: SharedTable, share_id: str) -> dict:
    return {"name": t.name, "schema": t.schema, "share": t.share, "shareId": share_id, "id": t.id}


def _table_of_file(relpath: str) -> str | None:
    parts = relpath.split("/")
    if parts[0] == STATE_DIR and len(parts) > 2:
        return parts[2]
    return f"{parts[0]}.{parts[1]}" if len(parts) > 2 else None


def _bytes_sent(request: Request, response: Response) -> int | None:
    """Body bytes of a file response: the whole file, or the requested range (206); none for HEAD."""
    if request.method == "HEAD" or response.status_code not in (200, 206):
        return None
    rng = request.headers.get("range", "")
    if response.status_code == 206 and rng.startswith("bytes=") and "," not in rng:
        first, _, last = rng[6:].partition("-")
        if first.isdigit() and last.isdigit():
            return int(last) - int(first) + 1
        return None
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


def _recipient(request: Request) -> Recipient:
    """The bearer token's recipient (401 otherwise); its name goes to the access log."""
    provider: Provider = request.app.state.provider
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    r = provider.recipients.authenticate(token.strip() if scheme.lower() == "bearer" else None)
    request.state.recipient = r.name
    return r


Auth = Annotated[Recipient, Depends(_recipient)]


def _report_links(entry: ReportEntry, base: str, query: Callable[[str], str]) -> dict[str, str]:
    """Signed links to a report's HTML and Markdown, which open in a browser without the token."""
    return {name: f"{base}{REPORTS}/{entry.ref.relpath}/{name}?{query(name)}"
            for name in ("report.html", "report.md") if name in entry.files}


def _html_page(title: str, intro: str, head: list[str], rows: list[list[str]]) -> HTMLResponse:
    """A plain index page; every cell is escaped HTML already."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows) or \
        f'<tr><td colspan="{len(head)}">none</td></tr>'
    text = (f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f"<title>{html.escape(title)}</title><style>body{{font:15px/1.5 system-ui,sans-serif;margin:2em;max-width:70em}}"
            "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left}</style>"
            f"</head><body><h1>{html.escape(title)}</h1><p>{intro}</p><table><tr>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in head) + f"</tr>{body}</table></body></html>")
    return HTMLResponse(text, headers=PAGE_HEADERS)


def create_app(provider: Provider, public_url: str | None = None, registry: CollectorRegistry | None = None) -> FastAPI:
    """The ASGI app; `public_url` is the base of file URLs when clients reach the server through a proxy;
    `registry` receives the app's metrics (a new one per app by default, so apps never share counters)."""
    app = FastAPI(title="smartmon Delta Sharing", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.provider = provider
    app.state.metrics = metrics = SharingMetrics(provider, registry)
    started = time.monotonic()

    def base_url(request: Request) -> str:
        return public_url or str(request.base_url)

    def shared_table(request: Request, r: Recipient, share: str, schema: str, table: str) -> SharedTable:
        request.state.table = f"{schema}.{table}".lower()
        return provider.table_for(r, share, schema, table)

    # ---------------------------------------------------------------- logging and errors
    @app.middleware("http")
    async def access_log(request: Request, call_next: Callable) -> Response:
        t0 = time.perf_counter()
        for k in ("table", "rows", "files", "error", "error_code"):
            setattr(request.state, k, None)
        request.state.recipient = "-"
        status, nbytes = 500, None
        try:
            response = await call_next(request)
            status, nbytes = response.status_code, _bytes_sent(request, response)
            return response
        finally:
            seconds = time.perf_counter() - t0
            route = request.scope.get("route")
            metrics.observe(endpoint=getattr(route, "path", None) or "unmatched", method=request.method, status=status,
                            seconds=seconds, error_code=request.state.error_code, table=request.state.table,
                            rows=request.state.rows, files=request.state.files, nbytes=nbytes)
            if request.url.path not in PROBES:
                provider.access_log.append(
                    recipient=request.state.recipient, method=request.method, path=request.url.path, table=request.state.table,
                    status=status, rows=request.state.rows, files=request.state.files,
                    bytes=nbytes, ms=round(seconds * 1000, 2),
                    client=request.client.host if request.client else None, error=request.state.error)

    @app.exception_handler(SharingError)
    async def sharing_error(request: Request, exc: SharingError) -> JSONResponse:
        request.state.error = str(exc)
        if exc.status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc, exc_info=exc)
        return _error(exc.status, exc.error_code, str(exc), request)

    @app.exception_handler(SmartmonError)
    async def smartmon_error(request: Request, exc: SmartmonError) -> JSONResponse:
        request.state.error = str(exc)
        log.error("%s %s: %s", request.method, request.url.path, exc, exc_info=exc)
        return _error(500, "INTERNAL_ERROR", str(exc), request)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        msg = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        request.state.error = msg
        return _error(400, "INVALID_PARAMETER_VALUE", msg, request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "RESOURCE_DOES_NOT_EXIST" if exc.status_code == 404 else "INVALID_PARAMETER_VALUE"
        request.state.error = str(exc.detail)
        return _error(exc.status_code, code, f"{request.method} {request.url.path}: {exc.detail}", request)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(500, "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}", request)

    # ---------------------------------------------------------------- shares, schemas, tables
    @app.get(PREFIX + "/shares")
    def list_shares(r: Auth, maxResults: int | None = None, pageToken: str | None = None) -> dict:
        return _page([{"name": s.name, "id": s.id} for s in provider.shares_for(r)], maxResults, pageToken)

    @app.get(PREFIX + "/shares/{share}")
    def get_share(share: str, r: Auth) -> dict:
        s = provider.share_for(r, share)
        return {"share": {"name": s.name, "id": s.id}}

    @app.get(PREFIX + "/shares/{share}/schemas")
    def list_schemas(share: str, r: Auth, maxResults: int | None = None,
                     pageToken: str | None = None) -> dict:
        s = provider.share_for(r, share)
        schemas = sorted({t.schema for t in provider.tables_for(r, s)}, key=s.schemas.index)
        return _page([{"name": n, "share": s.name} for n in schemas], maxResults, pageToken)

    @app.get(PREFIX + "/shares/{share}/schemas/{schema}/tables")
    def list_tables(share: str, schema: str, r: Auth, maxResults: int | None = None,
                    pageToken: str | None = None) -> dict:
        s = provider.share_for(r, share)
        if schema.lower() not in s.schemas:
            provider.shares.table(s.name, schema, "-")  # raises NotFound naming the share's schemas
        return _page([_table_item(t, s.id) for t in provider.tables_for(r, s, schema)], maxResults, pageToken)

    @app.get(PREFIX + "/shares/{share}/all-tables")
    def list_all_tables(share: str, r: Auth, maxResults: int | None = None,
                        pageToken: str | None = None) -> dict:
        s = provider.share_for(r, share)
        return _page([_table_item(t, s.id) for t in provider.tables_for(r, s)], maxResults, pageToken)

    # ---------------------------------------------------------------- one table
    @app.api_route(TABLE + "/version", methods=["GET", "HEAD"])
    def table_version(request: Request, share: str, schema: str, table: str, r: Auth,
                      startingTimestamp: str | None = None) -> Response:
        if startingTimestamp is not None:
            raise InvalidRequest("startingTimestamp is not supported: this server shares snapshots, not change data")
        snap, _ = provider.snapshot(r, shared_table(request, r, share, schema, table))
        return Response(status_code=200, headers={"delta-table-version": str(snap.version)})

    def metadata_lines(snap, t: SharedTable, with_version: bool) -> list[str]:
        meta = {"id": snap.table_id, "name": t.name, "format": {"provider": "parquet"}, "schemaString": snap.schema_json,
                "partitionColumns": list(snap.partition_columns)}
        if snap.description:
            meta["description"] = snap.description
        if with_version:
            meta["version"] = snap.version
        return [json.dumps({"protocol": {"minReaderVersion": 1}}), json.dumps({"metaData": meta})]

    def ndjson(lines: list[str], version: int) -> Response:
        return Response("\n".join(lines) + "\n", media_type=NDJSON,
                        headers={"delta-table-version": str(version), "delta-sharing-capabilities": "responseformat=parquet"})

    @app.get(TABLE + "/metadata")
    def table_metadata(request: Request, share: str, schema: str, table: str, r: Auth) -> Response:
        t = shared_table(request, r, share, schema, table)
        snap, _ = provider.snapshot(r, t)
        return ndjson(metadata_lines(snap, t, False), snap.version)

    @app.post(TABLE + "/query")
    def table_query(request: Request, share: str, schema: str, table: str, r: Auth,
                    body: Annotated[QueryBody | None, Body()] = None) -> Response:
        body = body or QueryBody()
        if body.startingVersion is not None or body.endingVersion is not None:
            raise InvalidRequest("startingVersion/endingVersion (change data) is not supported: query a snapshot")
        if body.version is not None and body.timestamp is not None:
            raise InvalidRequest("give version or timestamp, not both")
        if body.limitHint is not None and body.limitHint < 0:
            raise InvalidRequest(f"limitHint must be non-negative, got {body.limitHint}")
        t = shared_table(request, r, share, schema, table)
        res = provider.query(r, t, version=body.version, timestamp=body.timestamp, limit_hint=body.limitHint)
        travel = body.version is not None or body.timestamp is not None
        lines = metadata_lines(res.snapshot, t, travel)
        base = base_url(request)
        for f in res.files:
            entry = {"url": provider.file_url(base, r, f), "id": f.id, "partitionValues": f.partition_values, "size": f.size}
            if f.rows is not None:
                entry["stats"] = json.dumps({"numRecords": f.rows})
            if travel:
                entry["version"] = res.snapshot.version
            lines.append(json.dumps({"file": entry}))
        request.state.files = len(res.files)
        request.state.rows = sum(f.rows or 0 for f in res.files)
        return ndjson(lines, res.snapshot.version)

    @app.get(TABLE + "/changes")
    def table_changes(request: Request, share: str, schema: str, table: str, r: Auth) -> Response:
        shared_table(request, r, share, schema, table)
        raise InvalidRequest("change data feed is not shared by this server: query the table's snapshot")

    # ---------------------------------------------------------------- files
    @app.api_route("/files/{relpath:path}", methods=["GET", "HEAD"])
    def get_file(request: Request, relpath: str, r: str = Query(""), expires: str = Query(""),
                 sig: str = Query("")) -> FileResponse:
        request.state.recipient = r or "-"
        request.state.table = _table_of_file(relpath)
        path = provider.check_file(relpath, r, expires, sig)
        request.state.files = 1
        return FileResponse(path, media_type="application/octet-stream", headers={"Cache-Control": "private, no-store"})

    # ---------------------------------------------------------------- consultation reports
    def tier_rows(r: Recipient, tier: str, base: str) -> list[tuple[ReportEntry, dict[str, str]]]:
        return [(e, _report_links(e, base, lambda name, e=e: provider.report_query(r, e.ref, name)))
                for e in provider.reports_for(r, tier)]

    @app.get(REPORTS)
    @app.get(REPORTS + "/")
    def reports_index(request: Request, r: Auth, fmt: Annotated[str, Query(alias="format")] = "html") -> Response:
        request.state.table = "files.reports"
        base = base_url(request).rstrip("/")
        counts = {tier: len(provider.reports_for(r, tier)) for tier in TIERS}
        if fmt == "json":
            return JSONResponse({"recipient": r.name, "area": r.area.key,
                                 "tiers": [{"tier": t, "reports": n, "index": f"{base}{REPORTS}/{t}/"} for t, n in counts.items()]})
        rows = [[f'<a href="{html.escape(base)}{REPORTS}/{t}/">{t}</a>', str(n)] for t, n in counts.items()]
        intro = (f"Reports recipient {html.escape(r.name)} ({r.area.key}) may read, by tier. The links of the tier pages "
                 "are signed: they open without the token for a limited time.")
        return _html_page("Consultation reports (会商报告)", intro, ["tier", "reports"], rows)

    @app.get(REPORTS + "/{tier}")
    @app.get(REPORTS + "/{tier}/")
    def reports_tier(request: Request, tier: str, r: Auth, fmt: Annotated[str, Query(alias="format")] = "html") -> Response:
        request.state.table = "files.reports"
        if tier not in TIERS:
            raise NotFound(f"no report tier {tier!r}: the tiers are {', '.join(TIERS)} (/reports/<tier>/)")
        base = base_url(request).rstrip("/")
        entries = tier_rows(r, tier, base)
        if fmt == "json":
            return JSONResponse({"recipient": r.name, "area": r.area.key, "tier": tier, "reports": [
                {"area": e.ref.area_key, "code": e.ref.code, "period": e.ref.period, "label": e.ref.label, "title": e.title,
                 "files": list(e.files), "links": links} for e, links in entries]})
        rows = [[html.escape(e.ref.area_key), html.escape(e.title), f"{e.ref.period} {html.escape(e.ref.label)}",
                 " ".join(f'<a href="{html.escape(url)}">{html.escape(name)}</a>' for name, url in links.items())]
                for e, links in entries]
        intro = (f"{len(rows)} {tier} report(s) recipient {html.escape(r.name)} ({r.area.key}) may read. "
                 f'<a href="{html.escape(base)}{REPORTS}/">All tiers</a>.')
        return _html_page(f"Consultation reports: {tier}", intro, ["area", "report", "period", "files"], rows)

    @app.get(REPORTS + "/{area}/{run}/{name}")
    def report_file(request: Request, area: str, run: str, name: str, r: str = Query(""), expires: str = Query(""),
                    sig: str = Query("")) -> Response:
        request.state.table = "files.reports"
        if request.headers.get("authorization"):
            recipient = _recipient(request)
        elif sig:
            request.state.recipient = r or "-"
            recipient = provider.check_report_link(area, run, name, r, expires, sig)
        else:
            raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <token>', or open a signed link "
                                  f"from the report index ({REPORTS}/)")
        ref, path = provider.report_file(recipient, area, run, name)
        request.state.files = 1
        metrics.reports.labels(ref.tier).inc()
        kind = name.rsplit(".", 1)[1]
        if kind != "html":
            return FileResponse(path, media_type=MEDIA_TYPES[kind], headers={"Cache-Control": "private, no-store"})
        # the page's images and links are relative names: sign them, so a browser loads them without the token
        page = _RELATIVE_LINK.sub(lambda m: f'{m[1]}="{m[2]}?{html.escape(provider.report_query(recipient, ref, m[2]))}"',
                                  Path(path).read_text(encoding="utf-8"))
        return HTMLResponse(page, headers=PAGE_HEADERS)

    # ---------------------------------------------------------------- operating
    def health() -> tuple[bool, dict]:
        if not provider.lake_root.is_dir():
            return False, {"status": "error", "service": "delta-sharing", "error": "the lake root is not a readable folder"}
        recipients = provider.recipients.list()  # raises on a damaged recipients file: unhealthy, with the reason
        return True, {"status": "ok", "service": "delta-sharing", "shares": len(provider.shares.shares),
                      "tables": sum(len(s.tables) for s in provider.shares.shares),
                      "recipients_active": sum(x.status() == "active" for x in recipients),
                      "reports": len(provider.reports.entries()), "uptime_seconds": round(time.monotonic() - started, 1)}

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        status, body = run_health(health)
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    @app.get("/metrics")
    def prometheus_metrics(request: Request) -> Response:
        data, content_type = render_metrics(metrics.registry, request.headers.get("accept"))
        return Response(data, media_type=content_type, headers={"Cache-Control": "no-store"})

    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket (port 0 picks a free one), bound before the server starts so the port can be printed."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidRequest(f"cannot listen on {host}:{port}: {exc.strerror} (choose another --port, or 0 for a free one)") from exc
    return sock


def _server(app: FastAPI, tls_cert: str | Path | None = None, tls_key: str | Path | None = None) -> uvicorn.Server:
    """The uvicorn server; with a certificate and key it serves HTTPS only (checked here, so a wrong
    file stops the start with its name instead of failing every handshake)."""
    tls_context(tls_cert, tls_key)
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                         ssl_certfile=str(tls_cert) if tls_cert else None,
                                         ssl_keyfile=str(tls_key) if tls_key else None))


def serve(app: FastAPI, sock: socket.socket, tls_cert: str | Path | None = None, tls_key: str | Path | None = None) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM stop it cleanly); HTTPS when given a certificate and key."""
    _server(app, tls_cert, tls_key).run(sockets=[sock])


@contextlib.contextmanager
def running(app: FastAPI, host: str = "127.0.0.1", port: int = 0, timeout: float = 20.0,
            tls_cert: str | Path | None = None, tls_key: str | Path | None = None) -> Iterator[str]:
    """Run the app in a background thread for the duration of a block; yields its base URL
    (https:// when given a certificate and key)."""
    server = _server(app, tls_cert, tls_key)
    sock = bind(host, port)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="delta-sharing", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SharingError(f"the sharing server did not start on {host}:{sock.getsockname()[1]}")
        time.sleep(0.02)
    try:
        yield f"{'https' if tls_cert else 'http'}://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
