"""`smartmon share`: tier-scoped sharing over the Delta Sharing protocol (recipients, server, access log)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

DEFAULT_PORT = 8765


def _provider(args: argparse.Namespace):
    from smartmon.config import settings
    from smartmon.sharing.provider import Provider
    from smartmon.sharing.reports import default_reports_dir
    from smartmon.sharing.shares import load_shares
    from smartmon.sharing.snapshots import local_lake_root

    reports = getattr(args, "reports", None)
    return Provider(local_lake_root(settings().lake), load_shares(args.shares), url_ttl=getattr(args, "url_ttl", 900),
                    reports_dir=Path(reports) if reports else default_reports_dir())


def _endpoint(args: argparse.Namespace) -> str:
    return args.endpoint or f"http://127.0.0.1:{DEFAULT_PORT}/delta-sharing"


def _grants(provider, share_args: list[str] | None, table_args: str | None) -> tuple[list[str], list[str]]:
    """Shares and table restrictions from --share / --tables, checked against the share file."""
    from smartmon.sharing.errors import InvalidRequest

    cfg = provider.shares
    shares = [cfg.share(s).name for arg in share_args or [] for s in arg.split(",") if s.strip()]
    tables = [t.strip().lower() for t in (table_args or "").split(",") if t.strip()]
    for t in tables:
        holders = cfg.shares_with(t)
        if not holders:
            known = sorted({x.fqn for s in cfg.shares for x in s.tables})
            raise InvalidRequest(f"--tables: {t} is in no share of {cfg.path} (shared tables: {', '.join(known)})")
        if shares and not set(holders) & set(shares):
            raise InvalidRequest(f"--tables: {t} is not in share(s) {', '.join(shares)} (it is in {', '.join(holders)})")
        if not shares:
            shares.extend(h for h in holders if h not in shares)
    return shares or [s.name for s in cfg.shares], tables


def _print_token(r, token: str, args: argparse.Namespace) -> None:
    from smartmon.sharing.recipients import write_profile

    print(f"token (shown once, keep it secret): {token}")
    if args.profile_out:
        path = write_profile(args.profile_out, _endpoint(args), token, r.expires_at)
        print(f"profile written to {path} (mode 600): endpoint {_endpoint(args)}")
        print(f"  read with: delta_sharing.load_as_pandas('{path}#<share>.<schema>.<table>')")
    else:
        print("no --profile-out: give the recipient a profile file "
              f'{{"shareCredentialsVersion": 1, "endpoint": "{_endpoint(args)}", "bearerToken": "<token>"}}')


def cmd_add(args: argparse.Namespace) -> int:
    from smartmon.sharing.areas import parse_area

    provider = _provider(args)
    area = parse_area(args.tier, args.code)
    shares, tables = _grants(provider, args.share, args.tables)
    r, token = provider.recipients.add(args.name, area, shares, tables, args.expires_days)
    expires = f", expires {r.expires_at:%Y-%m-%d %H:%M}Z" if r.expires_at else ""
    print(f"recipient {r.name}: {area} (rows with codes {area.prefix or '*'}...), shares {', '.join(shares)}"
          f"{', tables ' + ', '.join(tables) if tables else ''}{expires}")
    _print_token(r, token, args)
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    r, token = _provider(args).recipients.rotate(args.name, args.expires_days)
    print(f"recipient {r.name}: new token; the old one no longer works")
    _print_token(r, token, args)
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    r = _provider(args).recipients.revoke(args.name)
    print(f"recipient {r.name} revoked at {r.revoked_at:%Y-%m-%d %H:%M:%S}Z: its token and file URLs stop working now")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    recipients = _provider(args).recipients.list()
    if not recipients:
        print("no recipients yet: smartmon share add-recipient NAME --tier province --code 110000 --profile-out FILE")
        return 0
    print(f"{'name':20s} {'status':8s} {'area':16s} {'shares':16s} {'expires':17s} tables")
    for r in recipients:
        exp = f"{r.expires_at:%Y-%m-%d %H:%M}" if r.expires_at else "never"
        print(f"{r.name:20s} {r.status():8s} {r.area.key:16s} {','.join(r.shares):16s} {exp:17s} {','.join(r.tables) or 'all'}")
    print(f"{len(recipients)} recipient(s)")
    return 0


def cmd_tables(args: argparse.Namespace) -> int:
    from smartmon.sharing.errors import SharingError

    provider = _provider(args)
    for s in provider.shares.shares:
        print(f"share {s.name}: {s.comment}")
        for t in s.tables:
            try:
                rule = provider.listed_rule(t)
                text = rule.describe() if rule else "table not built yet (rows placed by its columns once it is)"
            except SharingError as exc:
                text = f"ERROR: {exc}"
            print(f"  {t.fqn:28s} {text}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from smartmon.service import tls_context
    from smartmon.sharing.server import PREFIX, REPORTS, bind, create_app, serve

    tls_context(args.tls_cert, args.tls_key)  # a wrong certificate or key stops here, naming the file
    provider = _provider(args)
    app = create_app(provider, public_url=args.public_url)
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    base = f"{'https' if args.tls_cert else 'http'}://{args.host}:{port}"
    print(f"serving Delta Sharing for {provider.lake_root} at {base}{PREFIX} "
          f"({len(provider.recipients.list())} recipient(s), shares from {provider.shares.path})", flush=True)
    print(f"reports from {provider.reports.root} at {base}{REPORTS}/; health {base}/healthz, metrics {base}/metrics", flush=True)
    print(f"port {port}", flush=True)
    serve(app, sock, args.tls_cert, args.tls_key)
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    provider = _provider(args)
    records = provider.access_log.tail(args.limit, args.recipient)
    for r in records:
        if r.get("rows") is not None:
            served = f"rows={r['rows']:,} files={r['files']}"
        else:
            served = f"bytes={r['bytes']:,}" if r.get("bytes") else ""
        print(f"{r['time']} {r['recipient']:14s} {r['status']} {r['method']:4s} {r.get('table') or '-':24s} {served:22s} "
              f"{r.get('ms') or 0:8.1f}ms {r['path']}" + (f"  ({r['error']})" if r.get("error") else ""))
    print(f"{len(records)} request(s) shown, oldest first (log: {provider.access_log.dir})")
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("share", lambda a: a.share_fn(a), "tier-scoped Delta Sharing: recipients and tokens, the server, the access log")
    sub = p.add_subparsers(dest="share_action", required=True, metavar="ACTION")

    def action(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=help_, description=help_)
        q.add_argument("--lake", dest="lake_sub", help="lake root (same as the global --lake)")
        q.add_argument("--shares", type=Path, help="share file (default: infra/sharing/shares.yaml)")
        q.set_defaults(share_fn=fn)
        return q

    def token_out(q: argparse.ArgumentParser) -> None:
        q.add_argument("--expires-days", type=float, help="token lifetime in days (default: no expiry)")
        q.add_argument("--profile-out", type=Path, help="write the recipient's Delta Sharing profile file here")
        q.add_argument("--endpoint", help=f"server URL written into the profile (default http://127.0.0.1:{DEFAULT_PORT}/delta-sharing)")

    q = action("add-recipient", cmd_add, "add a recipient scoped to an area; prints its token once")
    q.add_argument("name", help="recipient name, e.g. hebei-platform")
    q.add_argument("--tier", required=True, help="nation | province | city | county")
    q.add_argument("--code", help="GB/T 2260 code of the area (province 110000, city 110100, county 110101; none for the nation)")
    q.add_argument("--share", action="append", help="share(s) granted, repeatable or comma-separated (default: every share)")
    q.add_argument("--tables", help="only these tables of the shares, comma-separated layer.table")
    token_out(q)
    q = action("rotate", cmd_rotate, "give a recipient a new token (the old one stops working)")
    q.add_argument("name")
    token_out(q)
    q = action("revoke", cmd_revoke, "revoke a recipient: its token and outstanding file URLs stop working")
    q.add_argument("name")
    action("list-recipients", cmd_list, "list recipients: area, shares, tables, status")
    action("tables", cmd_tables, "list the shares, their tables and how each table's rows are placed")
    q = action("serve", cmd_serve, "serve the Delta Sharing protocol (REST, bearer tokens) over the lake")
    q.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    q.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one and prints it)")
    q.add_argument("--public-url", help="base URL clients reach the server by, for file URLs (behind a proxy)")
    q.add_argument("--url-ttl", type=int, default=900, help="lifetime of signed file and report URLs, seconds")
    q.add_argument("--reports", type=Path, help="consultation reports folder served at /reports/ "
                   "(default: $SMARTMON_REPORTS_DIR, else reports/ in the repo)")
    q.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (chain); needs --tls-key")
    q.add_argument("--tls-key", metavar="PEM", help="the certificate's private key (unencrypted PEM)")
    q = action("log", cmd_log, "the access log: last requests, oldest first")
    q.add_argument("--limit", type=int, default=20)
    q.add_argument("--recipient", help="only this recipient's requests")
