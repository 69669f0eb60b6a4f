"""What the long-running services share: TLS from a certificate and key, Prometheus exposition,
and a small HTTP server for /healthz and /metrics beside a service that does not speak HTTP
itself (the HJ 212 receiver's devices speak raw TCP).

Each service keeps its metrics in its own prometheus_client CollectorRegistry, never the
process-wide default: two services in one process (or the many servers a test suite starts)
must not share counters or clash on a metric name.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from smartmon.errors import ConfigError

log = logging.getLogger(__name__)

HealthCheck = Callable[[], tuple[bool, dict]]
"""() -> (healthy, a small JSON-ready body); unhealthy answers 503 so a probe or balancer acts on it."""

HANDSHAKE_SECONDS = 10.0  # a client that opens a TLS connection and sends nothing holds a thread no longer


def tls_context(certfile: str | Path | None, keyfile: str | Path | None) -> ssl.SSLContext | None:
    """A server-side TLS context (TLS 1.2 or later) from a PEM certificate (or chain) and its key;
    None when neither is given. Checked here, at start, so a wrong file stops the service with a
    message naming it instead of failing every handshake later."""
    if not certfile and not keyfile:
        return None
    if not (certfile and keyfile):
        raise ConfigError("TLS needs both a certificate and its key (--tls-cert and --tls-key, PEM files), or neither")
    for label, path in (("certificate", certfile), ("key", keyfile)):
        if not Path(path).is_file():
            raise ConfigError(f"TLS {label} {path} does not exist or is not a file")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(certfile), str(keyfile))
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"cannot serve TLS with certificate {certfile} and key {keyfile}: {exc} "
                          "(both PEM, the key unencrypted and matching the certificate)") from exc
    return ctx


def render_metrics(registry: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """The registry in the exposition format the scraper asked for (Prometheus text by default)."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def run_health(check: HealthCheck) -> tuple[int, dict]:
    """(HTTP status, body) of a health check; a check that raises is unhealthy, with the reason."""
    try:
        ok, body = check()
    except Exception as exc:  # noqa: BLE001 - a broken check is itself the health answer
        log.exception("health check failed")
        return 503, {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    return (200 if ok else 503), body


class _Handler(BaseHTTPRequestHandler):
    server: _StatusHTTPServer
    timeout = 30  # seconds a client may take to send its request
    server_version = "smartmon-status"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            status, body = run_health(self.server.health)
            self._send(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")
        elif path == "/metrics":
            data, content_type = render_metrics(self.server.registry, self.headers.get("Accept"))
            self._send(200, data, content_type)
        else:
            body = {"error": f"{path} is not served here: GET /healthz or /metrics"}
            self._send(404, json.dumps(body).encode("utf-8"), "application/json")

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        log.debug("%s %s", self.address_string(), format % args)


class _StatusHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], registry: CollectorRegistry, health: HealthCheck,
                 ssl_context: ssl.SSLContext | None) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.registry = registry
        self.health = health
        self.ssl_context = ssl_context
        super().__init__(address, _Handler)

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:
        """The TLS handshake runs here, in the connection's own thread, so a slow or plain-text
        client never holds up the accept loop."""
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(HANDSHAKE_SECONDS)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.info("status server: TLS handshake with %s failed: %s", client_address[0], exc)
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request: object, client_address: tuple) -> None:
        log.debug("status server: error while serving %s", client_address, exc_info=True)


class StatusServer:
    """GET /healthz and /metrics (HTTPS with a TLS context) from a background thread.

    Not an asyncio server on purpose: it must answer while the service's own event loop is
    busy or stuck, which is exactly when a health probe matters."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry, health: HealthCheck,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        try:
            self._httpd = _StatusHTTPServer((host, port), registry, health, ssl_context)
        except OSError as exc:
            raise ConfigError(f"cannot serve health and metrics on {host}:{port}: {exc.strerror or exc} "
                              "(choose another --metrics-port, or 0 for a free one)") from exc
        self.host = host
        self.tls = ssl_context is not None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def start(self) -> StatusServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="status-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self._httpd.server_close()
