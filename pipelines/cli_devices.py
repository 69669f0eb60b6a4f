"""`smartmon devices`: the HJ 212 device registry (silver.devices) that the receiver authenticates
devices against: register one logger (add), every enterprise logger of the pollution-source
registry (sync), or show them (list).

The receiver reads the table with delta-rs and picks changes up within --devices-reload seconds
(or at once on SIGHUP); these commands write it through the lake like any silver table.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime

from smartmon.catalog.names import SILVER_DEVICES, SILVER_EMISSION_SOURCES
from smartmon.errors import InputError
from smartmon.io import VOLATILE, Lake, WriteResult

# MN and PW travel as HJ 212 header fields: ';', '=', '&' or white space would break the frame
_FIELD = re.compile(r"^[^;=&\s]{1,64}$")
PROTOCOLS = ("2005", "2017")
DEFAULT_PW = "123456"  # HJ 212-2017's factory default access password, what the simulated loggers send
COMPARE_IGNORES = VOLATILE | {"updated_at"}  # re-registering a device unchanged writes nothing


def _check(name: str, value: str | None) -> str:
    if value is None or not _FIELD.match(value):
        raise InputError(f"{name} {value!r}: 1 to 64 characters without ';', '=', '&' or spaces (an HJ 212 header field)")
    return value


def device_row(mn: str, pw: str, *, station_id: str | None = None, source_id: str | None = None,
               st: str | None = None, protocol: str | None = None, active: bool = True, note: str | None = None,
               source: str = "devices-cli") -> dict:
    """One silver.devices row, checked: MN and PW usable as header fields, a known protocol."""
    if protocol not in (None, *PROTOCOLS):
        raise InputError(f"protocol {protocol!r}: one of {', '.join(PROTOCOLS)} (or none: either)")
    if not (station_id or source_id):
        raise InputError(f"device {mn}: give the station (--station) or the enterprise (--source) it measures for")
    return {"mn": _check("MN", mn), "pw": _check("PW", pw), "station_id": station_id, "source_id": source_id,
            "st": st, "protocol": protocol, "active": active, "note": note,
            "updated_at": datetime.now(UTC).replace(tzinfo=None), "source": source, "source_file": None,
            "source_line": None, "batch_id": None, "ingested_at": datetime.now(UTC).replace(tzinfo=None)}


def add_devices(lake: Lake, rows: list[dict]) -> WriteResult:
    """Insert or update devices by MN (the registry keeps one row per MN; Delta keeps the history)."""
    from smartmon import catalog

    spec = catalog.get(SILVER_DEVICES)
    df = lake.spark.createDataFrame([tuple(r[c] for c in spec.column_names) for r in rows], spec.schema)
    return lake.merge(df, SILVER_DEVICES, ignore_in_compare=COMPARE_IGNORES)


def sync_enterprises(lake: Lake, pw: str = DEFAULT_PW, protocol: str | None = "2017") -> WriteResult:
    """Register every enterprise logger (MN) of silver.emission_sources not registered yet, with
    the given initial password. A registered device is left as it is (its PW may have changed)."""
    from pyspark.sql import functions as F

    from smartmon import catalog

    _check("PW", pw)
    spec = catalog.get(SILVER_DEVICES)
    sources = lake.read(SILVER_EMISSION_SOURCES).where(F.col("mn").isNotNull() & (F.trim("mn") != ""))
    known = lake.read(SILVER_DEVICES).select("mn")
    now = datetime.now(UTC).replace(tzinfo=None)
    new = (sources.join(known, "mn", "left_anti").dropDuplicates(["mn"])
           .select("mn", F.lit(pw).alias("pw"), F.lit(None).cast("string").alias("station_id"), "source_id",
                   F.col("st").cast("string").alias("st"), F.lit(protocol).cast("string").alias("protocol"),
                   F.lit(True).alias("active"),
                   F.lit(f"enterprise logger from {SILVER_EMISSION_SOURCES} (`smartmon devices sync`)").alias("note"),
                   F.lit(now).alias("updated_at"), "source", "source_file", "source_line", "batch_id",
                   F.lit(now).alias("ingested_at")))
    return lake.merge(new.select(*spec.column_names), SILVER_DEVICES, ignore_in_compare=COMPARE_IGNORES)


# ------------------------------------------------------------------------------ commands
def cmd_devices_add(args: argparse.Namespace) -> int:
    from pipelines.cli_common import open_lake

    row = device_row(args.mn, args.pw, station_id=args.station, source_id=args.source, st=args.st,
                     protocol=args.protocol, active=not args.inactive, note=args.note)
    lake = open_lake()
    result = add_devices(lake, [row])
    state = "inactive" if args.inactive else "active"
    print(f"{SILVER_DEVICES}: device {args.mn} {state} ({result.operation} v{result.version}: "
          f"+{result.rows_inserted} ~{result.rows_updated}) at {lake.path(SILVER_DEVICES)}")
    print("a running hj212-receiver picks it up within --devices-reload seconds (default 60), or at once on SIGHUP")
    return 0


def cmd_devices_sync(args: argparse.Namespace) -> int:
    from pipelines.cli_common import open_lake

    lake = open_lake()
    if not lake.exists(SILVER_EMISSION_SOURCES):
        raise InputError(f"{SILVER_EMISSION_SOURCES} does not exist yet: `smartmon ingest enterprises` first")
    result = sync_enterprises(lake, pw=args.pw, protocol=args.protocol)
    print(f"{SILVER_DEVICES}: {result.rows_inserted} enterprise loggers registered (PW {args.pw!r}, "
          f"protocol {args.protocol or 'either'}), the others were registered already")
    return 0


def cmd_devices_list(args: argparse.Namespace) -> int:
    from pipelines.cli_common import open_lake

    lake = open_lake()
    if not lake.exists(SILVER_DEVICES):
        print(f"{SILVER_DEVICES} does not exist yet: the receiver refuses every device. Register one with "
              "`smartmon devices add --mn MN --pw PW --station ID`")
        return 0
    rows = lake.read(SILVER_DEVICES).orderBy("mn").collect()
    for r in rows:
        where = r.station_id or r.source_id or "-"
        print(f"{r.mn:26s} {'active  ' if r.active else 'inactive'} {where:16s} ST={r.st or '-':3s} "
              f"HJ 212-{r.protocol or 'any':4s} PW={'*' * len(r.pw or '')} {r.note or ''}")
    print(f"{len(rows)} devices ({sum(bool(r.active) for r in rows)} active)")
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("devices", lambda args: args.devices_fn(args) if getattr(args, "devices_fn", None) else _usage(p),
            "the HJ 212 device registry the receiver authenticates devices against: add, sync, list")
    sub = p.add_subparsers(dest="devices_command", metavar="ACTION")
    a = sub.add_parser("add", help="register (or change) one device", description="register (or change) one device")
    a.add_argument("--mn", required=True, help="the logger's device id (MN)")
    a.add_argument("--pw", required=True, help="its access password (PW)")
    where = a.add_mutually_exclusive_group(required=True)
    where.add_argument("--station", help="the station it measures for (silver.stations station_id)")
    where.add_argument("--source", help="the enterprise it measures for (silver.emission_sources source_id)")
    a.add_argument("--st", help="system type it sends (22 air, 21 surface water, 31/32 sources ...)")
    a.add_argument("--protocol", choices=PROTOCOLS, help="the only protocol version accepted from it (default: either)")
    a.add_argument("--inactive", action="store_true", help="keep it registered but refuse its frames")
    a.add_argument("--note", help="who registered it and why")
    a.set_defaults(devices_fn=cmd_devices_add)
    s = sub.add_parser("sync", help="register every enterprise logger of the pollution-source registry not registered yet",
                       description="register every enterprise logger (MN) of the pollution-source registry not registered yet")
    s.add_argument("--pw", default=DEFAULT_PW, help=f"their initial access password (default {DEFAULT_PW}, the standard's default)")
    s.add_argument("--protocol", choices=PROTOCOLS, default="2017", help="their protocol version (default 2017)")
    s.set_defaults(devices_fn=cmd_devices_sync)
    ls = sub.add_parser("list", help="show the registered devices (passwords masked)", description="show the registered devices")
    ls.set_defaults(devices_fn=cmd_devices_list)


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2
