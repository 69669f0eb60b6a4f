"""The HJ 212 receiver: the upper system (上位机) that devices connect to over TCP.

What it promises a device: an acknowledged frame is on disk. A frame is appended to the landing
file and fsync'ed before its answer is sent; frames arriving while an fsync runs are written
and fsync'ed together (group commit), so a busy receiver makes one fsync per batch, not per
frame. Files: frames go to <landing>/hj212/received-<time>-<pid>.hj212.part (locked while the
receiver writes it); on rotation (--rotate-seconds) and on SIGTERM/SIGINT it is renamed to
.hj212, which the bronze `hj212` adapter picks up, so bronze never reads a file being written.
A receiver that was killed (kill -9, power cut) leaves its .part file; the next start publishes
it, after cutting a torn last line (never acknowledged) into a refused line.

What lands: every line received. A frame that fails its length or CRC lands as sent (the adapter
refuses it with the reason); a frame the receiver refuses lands as a refused line
(smartmon.standards.hj212.refused_line: the reason, then the frame), which the adapter
quarantines with that reason, so `read = bronze + quarantine` covers refusals too. Refused:
- a device not in the device registry (silver.devices, or --devices FILE), deactivated, with the
  wrong access password (PW) or the wrong protocol version: no answer;
- a command only an upper system sends to a device (CN 1062 and the like): no answer;
- a split message (Flag D bit, PNUM/PNO) whose packets did not all arrive within
  --split-timeout: each packet it got, with the missing packet numbers.
A split message's packets are acknowledged one by one as they become durable in a journal
(<landing>/_hj212_receiver/split-packets.log); the complete message lands as one frame. A
restart reloads the packets still waiting.

Answers (see smartmon.standards.hj212.ack_for): 9014 to an upload, 9013 to a notification, only
when the Flag's A bit asks; a device's 9011/9012 are recorded, never answered; nothing is asked.

Connections: --max-connections (over it, a new connection is closed at once and counted) and
--idle-timeout (a connection that sends no complete frame for that long is closed). SIGTERM:
stop accepting, finish the frames already read, publish, exit 0. SIGHUP: reload the registry.

Operating it: with --tls-cert/--tls-key devices connect over TLS. The counters live in one
ReceiverMetrics object; with --metrics-port an HTTP thread (smartmon.service.StatusServer, HTTPS
with the certificate) serves them as Prometheus /metrics, and /healthz answers 200 while the
receiver listens and makes frames durable, 503 while it starts, stops or cannot write.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import fcntl
import logging
import os
import signal
import ssl
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from smartmon.beijing_time import BEIJING
from smartmon.catalog.names import SILVER_DEVICES
from smartmon.errors import SmartmonError
from smartmon.service import StatusServer, tls_context
from smartmon.standards.hj212 import (
    REFUSED_MARK,
    TO_DEVICE,
    Frame,
    FrameError,
    ack_for,
    join_split,
    parse_frame,
    refused_line,
)

log = logging.getLogger(__name__)
MAX_FRAME = 16 * 1024
FOLDER = "hj212"  # <landing>/hj212: what the bronze adapter reads
STATE = "_hj212_receiver"  # <landing>/_hj212_receiver: the receiver's own state, never ingested


class ReceiverError(SmartmonError):
    """The receiver cannot start (its state is locked by another receiver, the port is taken...)."""


@dataclass
class ReceiverMetrics:
    """Every counter of a receiver in one object, so an HTTP endpoint can expose snapshot()."""

    connections: int = 0  # accepted since start
    open_connections: int = 0
    connections_refused: int = 0  # over --max-connections, or arriving while stopping
    idle_closed: int = 0  # closed by --idle-timeout
    frames: int = 0  # lines received (blank lines not counted)
    landed: int = 0  # frames landed for bronze to ingest (a reassembled message counts once)
    invalid: int = 0  # failed length, CRC or encoding: landed as sent, bronze refuses them
    refused: int = 0  # refused by the receiver (landed as refused lines)
    refusals: dict[str, int] = field(default_factory=dict)  # refused by kind
    acks: int = 0  # answers sent (9013/9014)
    split_packets: int = 0
    split_reassembled: int = 0
    split_expired: int = 0  # messages quarantined for missing packets
    commits: int = 0  # fsync batches
    committed_lines: int = 0
    write_errors: int = 0  # batches that could not be made durable (their frames got no answer)
    write_failing: bool = False  # the last batch could not be made durable (a full or broken disk)
    queue_depth: int = 0  # frames waiting for the next fsync
    in_fsync: int = 0  # frames in the fsync running now (neither durable nor answered yet)
    split_pending: int = 0  # split messages waiting for packets
    devices: int = 0  # devices in the registry as last loaded
    files: list[str] = field(default_factory=list)  # published landing files

    def refuse(self, kind: str, n: int = 1) -> None:
        self.refused += n
        self.refusals[kind] = self.refusals.get(kind, 0) + n

    def snapshot(self) -> dict:
        """A plain copy (JSON-ready) of the counters."""
        return asdict(self)

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.refusals.items()))
        return (f"{self.connections} connections ({self.connections_refused} refused, {self.idle_closed} idle-closed), "
                f"{self.frames} frames: {self.landed} landed, {self.invalid} invalid, {self.refused} refused"
                f"{f' ({kinds})' if kinds else ''}; {self.acks} acks, {self.commits} fsyncs, "
                f"{self.split_reassembled} split messages reassembled, {self.split_pending} waiting")


class ReceiverCollector(Collector):
    """ReceiverMetrics as Prometheus metrics, read at scrape time.

    The receiver keeps plain counters that its event loop updates with no locking; a collector
    reads them when scraped (from the status server's thread) instead of mirroring every
    increment into prometheus_client objects on the hot path of each frame."""

    COUNTERS = (  # (field, metric name without _total, help)
        ("connections", "smartmon_hj212_connections", "device connections accepted"),
        ("connections_refused", "smartmon_hj212_connections_refused", "connections closed at once (over --max-connections, or stopping)"),
        ("idle_closed", "smartmon_hj212_idle_closed", "connections closed by --idle-timeout"),
        ("frames", "smartmon_hj212_frames_received", "lines received from devices (blank lines not counted)"),
        ("landed", "smartmon_hj212_frames_landed", "frames landed for bronze (a reassembled split message counts once)"),
        ("invalid", "smartmon_hj212_frames_invalid", "lines failing length, CRC or encoding: landed as sent, refused by bronze"),
        ("acks", "smartmon_hj212_acks_sent", "answers sent (9013/9014), each after its frame was durable"),
        ("split_packets", "smartmon_hj212_split_packets", "packets of split messages received"),
        ("split_reassembled", "smartmon_hj212_split_reassembled", "split messages landed whole"),
        ("split_expired", "smartmon_hj212_split_expired", "split messages quarantined for missing packets"),
        ("commits", "smartmon_hj212_fsyncs", "group-commit batches made durable"),
        ("committed_lines", "smartmon_hj212_committed_lines", "lines made durable (landing file and split journal)"),
        ("write_errors", "smartmon_hj212_write_errors", "batches that could not be made durable (their frames got no answer)"),
    )
    GAUGES = (
        ("open_connections", "smartmon_hj212_open_connections", "device connections open now"),
        ("queue_depth", "smartmon_hj212_queue_depth", "frames waiting for the next fsync"),
        ("split_pending", "smartmon_hj212_split_pending", "split messages waiting for packets"),
        ("devices", "smartmon_hj212_devices", "devices in the registry as last loaded"),
    )

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        m = self.receiver.metrics
        for attr, name, doc in self.COUNTERS:
            yield CounterMetricFamily(name, doc, value=getattr(m, attr))
        refusals = CounterMetricFamily("smartmon_hj212_refusals", "frames the receiver refused (landed as refused lines), by reason",
                                       labels=["reason"])
        for kind, n in sorted(dict(m.refusals).items()):
            refusals.add_metric([kind], n)
        yield refusals
        for attr, name, doc in self.GAUGES:
            yield GaugeMetricFamily(name, doc, value=getattr(m, attr))
        yield GaugeMetricFamily("smartmon_hj212_not_durable", "frames received and not yet durable: queued plus in the running fsync",
                                value=m.queue_depth + m.in_fsync)
        yield GaugeMetricFamily("smartmon_hj212_listening", "1 while the receiver accepts devices",
                                value=1 if self.receiver.phase == "listening" else 0)


# ---------------------------------------------------------------------------- device registry
@dataclass(frozen=True)
class Device:
    mn: str
    pw: str
    station_id: str | None = None
    source_id: str | None = None
    protocol: str | None = None  # '2005' | '2017'; None: either
    active: bool = True


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _active(value: object) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("false", "0", "no", "n", "inactive")


def _devices(rows: Iterable[dict]) -> dict[str, Device]:
    out = {}
    for r in rows:
        mn = _text(r.get("mn"))
        if not mn:
            continue
        out[mn] = Device(mn=mn, pw=_text(r.get("pw")) or "", station_id=_text(r.get("station_id")),
                         source_id=_text(r.get("source_id")), protocol=_text(r.get("protocol")), active=_active(r.get("active")))
    return out


class DeviceRegistry:
    """Who may send: MN -> access password (and station, enterprise, protocol, active).

    Read from the silver.devices Delta table with delta-rs (no Spark), or from a CSV file with
    the same columns (small deployments, tests). Reloaded when it changed (checked every
    --devices-reload seconds, and on SIGHUP); a registry that cannot be read keeps the devices
    last loaded. With no registry at all every device is refused, loudly: the default is closed.
    open_mode (--open, a lab bench) accepts any MN and PW."""

    def __init__(self, location: str | None, *, open_mode: bool = False) -> None:
        self.location = location
        self.open_mode = open_mode
        self.devices: dict[str, Device] = {}
        self.exists = False
        self._stamp: object = None

    @property
    def is_csv(self) -> bool:
        return bool(self.location) and str(self.location).lower().endswith(".csv")

    def _current_stamp(self) -> object:
        """A cheap token that changes when the registry does (None: it does not exist)."""
        loc = str(self.location)
        if self.is_csv:
            try:
                st = os.stat(loc)
            except FileNotFoundError:
                return None
            return (st.st_mtime_ns, st.st_size)
        from deltalake import DeltaTable

        if not DeltaTable.is_deltatable(loc):
            return None
        return DeltaTable(loc).version()

    def refresh(self) -> bool:
        """Load the registry if it changed; True when it was (re)loaded. Blocking: run it in a thread."""
        if self.open_mode or not self.location:
            return False
        try:
            stamp = self._current_stamp()
            if stamp is None:
                if self.exists or self._stamp is None:
                    log.error("device registry %s does not exist: every device is refused until devices are "
                              "registered (`smartmon devices add`), or the receiver runs with --open", self.location)
                self.exists, self._stamp, self.devices = False, "missing", {}
                return False
            if stamp == self._stamp:
                return False
            if self.is_csv:
                with open(self.location, encoding="utf-8-sig", newline="") as fh:
                    devices = _devices(csv.DictReader(fh))
            else:
                from deltalake import DeltaTable

                devices = _devices(DeltaTable(str(self.location)).to_pyarrow_table().to_pylist())
        except Exception:  # noqa: BLE001 - a bad reload keeps the devices we have
            log.exception("device registry %s could not be read; keeping the %d devices loaded before",
                          self.location, len(self.devices))
            return False
        self.devices, self.exists, self._stamp = devices, True, stamp
        log.info("device registry %s: %d devices (%d active)", self.location, len(devices),
                 sum(d.active for d in devices.values()))
        return True

    def check(self, frame: Frame) -> tuple[str, str] | None:
        """(kind, reason) when the frame's device may not send, else None."""
        if self.open_mode:
            return None
        mn = frame.mn
        if not self.exists:
            return "no_registry", f"no device registry ({self.location} does not exist): device MN={mn} cannot be authenticated"
        device = self.devices.get(mn)
        if device is None:
            return "unknown_device", f"unknown device MN={mn}: not in the device registry"
        if not device.active:
            return "inactive_device", f"device MN={mn} is deactivated in the device registry"
        if frame.pw != device.pw:
            return "wrong_password", f"wrong access password (PW) for device MN={mn}"
        if device.protocol and device.protocol != frame.protocol:
            return "wrong_protocol", (f"device MN={mn} is registered for HJ 212-{device.protocol}, "
                                      f"the frame's Flag says {frame.protocol}")
        return None


# ---------------------------------------------------------------------------- files
def _fsync_dir(folder: Path) -> None:
    """Make a file's creation or rename durable (POSIX: the directory entry is the directory's data)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


TORN = "torn line: the receiver stopped while writing it (never acknowledged; the device sends it again)"


def recover_landing(folder: Path) -> list[Path]:
    """Publish the .part files a stopped receiver left in folder; the published paths.

    A file another running receiver still holds (its lock) is left alone. A last line without
    its newline was being written when the receiver died, so it was never acknowledged: it is
    cut off and kept as a refused line (bronze quarantines it with the reason). Empty files go."""
    published = []
    for part in sorted(folder.glob("*.part")):
        try:
            fh = open(part, "r+b")  # noqa: SIM115 - closed below, after the rename
        except FileNotFoundError:
            continue
        with fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("%s is being written by a running receiver: left alone", part)
                continue
            data = fh.read()
            if not data.strip():
                part.unlink()
                continue
            if not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                torn = data[cut:].rstrip(b"\r").decode("utf-8", errors="backslashreplace")
                fh.truncate(cut)
                fh.seek(cut)
                fh.write(refused_line(TORN, torn).encode("utf-8") + b"\n")
                log.warning("%s: a torn last line (%d bytes) kept as a refused line", part, len(data) - cut)
            fh.flush()
            os.fsync(fh.fileno())
            done = part.with_suffix("")
            os.rename(part, done)
            _fsync_dir(folder)
        published.append(done)
        log.info("published %s, left by a receiver that stopped without publishing", done)
    return published


class LandingFile:
    """The .part file frames are appended to (opened on the first frame, locked while open)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path: Path | None = None
        self._fh = None

    def _open(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self.path = self.folder / f"received-{stamp}-{os.getpid()}.hj212.part"
        self._fh = open(self.path, "ab")  # noqa: SIM115 - kept open between batches
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        _fsync_dir(self.folder)

    def append(self, lines: list[bytes]) -> None:
        """Write lines and make them durable (fsync) before returning."""
        if self._fh is None:
            self._open()
        self._fh.write(b"".join(line + b"\n" for line in lines))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def publish(self) -> Path | None:
        """Close the file and rename it to .hj212 for the bronze job (None: nothing was written)."""
        if self._fh is None or self.path is None:
            return None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        done = self.path.with_suffix("")
        os.rename(self.path, done)  # still locked: a recovering receiver never sees it half-way
        _fsync_dir(self.folder)
        self._fh.close()
        self._fh, self.path = None, None
        log.info("landing file ready: %s", done)
        return done


# ---------------------------------------------------------------------------- split messages
def _split_key(frame: Frame, total: int) -> str:
    """Packets of one message share device, QN, command and packet count (2005 frames may lack QN)."""
    return f"{frame.mn}|{frame.qn}|{frame.cn}|{total}"


@dataclass
class _Message:
    key: str
    total: int
    first_seen: float
    parts: dict[int, Frame] = field(default_factory=dict)
    completing: bool = False


class PartsJournal:
    """Packets of split messages that are not complete yet, durable so they can be acknowledged.

    Lines: 'P <arrival> <key> <frame>' for a packet and 'D <key>' once its message landed or was
    quarantined (tab-separated). Rewritten with only the waiting packets on start and rotation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = None

    @staticmethod
    def part_line(arrival: float, key: str, frame: Frame) -> bytes:
        return f"P\t{arrival:.3f}\t{key}\t{frame.text}".encode()

    @staticmethod
    def done_line(key: str) -> bytes:
        return f"D\t{key}".encode()

    def load(self) -> list[tuple[float, Frame]]:
        """The packets still waiting, in arrival order (a torn last line was never acknowledged)."""
        if not self.path.exists():
            return []
        waiting: dict[str, list[tuple[float, Frame]]] = {}
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        if lines and lines[-1] != b"":
            log.warning("%s: a torn last line dropped (never acknowledged)", self.path)
        for raw in lines[:-1]:
            fields = raw.decode("utf-8", errors="replace").split("\t")
            if fields[0] == "D" and len(fields) == 2:
                waiting.pop(fields[1], None)
            elif fields[0] == "P" and len(fields) == 4:
                try:
                    waiting.setdefault(fields[2], []).append((float(fields[1]), parse_frame(fields[3])))
                except (ValueError, FrameError):
                    log.warning("%s: an unreadable packet line skipped", self.path)
        return sorted((p for parts in waiting.values() for p in parts), key=lambda p: p[0])

    def append(self, lines: list[bytes]) -> None:
        if self._fh is None:
            self._fh = open(self.path, "ab")  # noqa: SIM115 - kept open between batches
        self._fh.write(b"".join(line + b"\n" for line in lines))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def rewrite(self, waiting: list[tuple[float, str, Frame]]) -> None:
        """Replace the journal with only the waiting packets (atomic: write, fsync, rename)."""
        self.close()
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            fh.write(b"".join(self.part_line(t, key, f) + b"\n" for t, key, f in waiting))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class SplitAssembler:
    """Collects the packets of split messages until each message is whole (or times out)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.messages: dict[str, _Message] = {}
        self.landed: dict[str, float] = {}  # messages landed whole lately: key -> when (to spot retransmissions)

    def is_retransmission(self, frame: Frame, total: int) -> bool:
        """A packet of a message that landed whole within the timeout: the device did not get
        our answer and sends it again."""
        key = _split_key(frame, total)
        return key in self.landed and key not in self.messages

    def add(self, frame: Frame, total: int, number: int, arrival: float) -> tuple[str, list[Frame] | None]:
        """(key, the message's packets in order once it is whole - once only - else None)."""
        key = _split_key(frame, total)
        msg = self.messages.setdefault(key, _Message(key, total, arrival))
        msg.parts[number] = frame
        if msg.completing or len(msg.parts) < total:
            return key, None
        msg.completing = True
        return key, [msg.parts[n] for n in range(1, total + 1)]

    def done(self, key: str, landed: bool = False) -> None:
        self.messages.pop(key, None)
        if landed:
            self.landed[key] = time.time()

    def reopen(self, key: str) -> None:
        """The whole message could not be written: let the next packet try again."""
        if key in self.messages:
            self.messages[key].completing = False

    def expired(self, now: float) -> list[_Message]:
        for key in [k for k, t in self.landed.items() if now - t >= self.timeout]:
            del self.landed[key]
        return [m for m in self.messages.values() if not m.completing and now - m.first_seen >= self.timeout]

    def waiting(self) -> list[tuple[float, str, Frame]]:
        # a packet's own arrival time is not kept: the message's first arrival is what times it out
        return [(m.first_seen, m.key, f) for m in self.messages.values() for _, f in sorted(m.parts.items())]


# ---------------------------------------------------------------------------- group commit
@dataclass
class _Write:
    landing: list[bytes]
    parts: list[bytes]
    done: asyncio.Future


class Committer:
    """The only writer of the files: batches what arrives while an fsync runs (group commit),
    rotates the landing file on time, and publishes it when closed."""

    def __init__(self, landing: LandingFile, journal: PartsJournal, metrics: ReceiverMetrics,
                 rotate_seconds: float, waiting: Callable[[], list[tuple[float, str, Frame]]]) -> None:
        self.landing = landing
        self.journal = journal
        self.metrics = metrics
        self.rotate_seconds = rotate_seconds
        self._waiting = waiting
        self._queue: list[_Write] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hj212-committer")

    async def write(self, landing: Iterable[bytes] = (), parts: Iterable[bytes] = ()) -> None:
        """Return once the lines are durable; raise OSError when they could not be made so."""
        if self._closing:
            raise OSError("the receiver is closing its files")
        w = _Write(list(landing), list(parts), asyncio.get_running_loop().create_future())
        self._queue.append(w)
        self.metrics.queue_depth = len(self._queue)
        self._wake.set()
        await w.done

    def _flush(self, batch: list[_Write]) -> None:
        parts = [line for w in batch for line in w.parts]
        landing = [line for w in batch for line in w.landing]
        if parts:  # packets first: a whole message must never land while its packets are lost
            self.journal.append(parts)
        if landing:
            self.landing.append(landing)

    async def _run(self) -> None:
        next_rotation = time.monotonic() + self.rotate_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, next_rotation - time.monotonic()))
            self._wake.clear()
            if self._queue:
                batch, self._queue = self._queue, []
                self.metrics.queue_depth = 0
                self.metrics.in_fsync = len(batch)
                try:
                    await asyncio.to_thread(self._flush, batch)
                except OSError as exc:
                    self.metrics.write_errors += 1
                    self.metrics.write_failing = True
                    log.error("could not make %d frames durable (they get no answer): %s", len(batch), exc)
                    for w in batch:
                        w.done.set_exception(OSError(f"not durable: {exc}"))
                else:
                    self.metrics.write_failing = False
                    self.metrics.commits += 1
                    self.metrics.committed_lines += sum(len(w.landing) + len(w.parts) for w in batch)
                    for w in batch:
                        if not w.done.done():
                            w.done.set_result(None)
                finally:
                    self.metrics.in_fsync = 0
                continue  # look for what arrived during the fsync before rotating or stopping
            if self._closing:
                break
            if time.monotonic() >= next_rotation:
                await self._rotate()
                next_rotation = time.monotonic() + self.rotate_seconds

    async def _rotate(self) -> None:
        waiting = self._waiting()
        try:
            done = await asyncio.to_thread(self._publish_and_compact, waiting)
        except OSError:
            self.metrics.write_errors += 1
            log.exception("could not publish %s", self.landing.path)
            return
        if done:
            self.metrics.files.append(str(done))
            del self.metrics.files[:-50]  # the latest ones are enough for a status page

    def _publish_and_compact(self, waiting: list[tuple[float, str, Frame]]) -> Path | None:
        done = self.landing.publish()
        self.journal.rewrite(waiting)
        return done

    async def close(self) -> None:
        """Write what is queued, publish the landing file, compact the journal."""
        self._closing = True
        self._wake.set()
        if self._task:
            await self._task
        await self._rotate()
        self.journal.close()


# ---------------------------------------------------------------------------- the receiver
class Receiver:
    """One listening socket, many devices; see the module docstring for what it promises."""

    def __init__(self, landing: Path, *, devices: DeviceRegistry, rotate_seconds: float = 3600.0,
                 idle_timeout: float = 300.0, max_connections: int = 1000, split_timeout: float = 300.0,
                 devices_reload: float = 60.0, drain_seconds: float = 10.0, tls: ssl.SSLContext | None = None) -> None:
        self.folder = landing / FOLDER
        self.state = landing / STATE
        self.devices = devices
        self.rotate_seconds = rotate_seconds
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.devices_reload = devices_reload
        self.drain_seconds = drain_seconds
        self.metrics = ReceiverMetrics()
        self.assembler = SplitAssembler(split_timeout)
        self._handlers: set[asyncio.Task] = set()
        self._state_lock = None
        self.tls = tls
        self.phase = "starting"  # starting | listening | stopping | stopped, for /healthz
        self.address: tuple[str, int] | None = None
        self.started = time.monotonic()

    # -- operating -----------------------------------------------------------------------
    def registry(self) -> CollectorRegistry:
        """A Prometheus registry of this receiver's own (not the process-wide default one)."""
        reg = CollectorRegistry(auto_describe=False)
        reg.register(ReceiverCollector(self))
        return reg

    def health(self) -> tuple[bool, dict]:
        """Healthy while it listens and its last batch was made durable; the body says what it serves."""
        m = self.metrics
        status = "failing_writes" if self.phase == "listening" and m.write_failing else self.phase
        registry = "open" if self.devices.open_mode else ("loaded" if self.devices.exists else "missing")
        body = {"status": "ok" if status == "listening" else status, "service": "hj212-receiver",
                "listening": self.phase == "listening",
                "address": f"{self.address[0]}:{self.address[1]}" if self.address else None,
                "tls": self.tls is not None, "devices": m.devices, "device_registry": registry,
                "open_connections": m.open_connections, "queue_depth": m.queue_depth, "not_durable": m.queue_depth + m.in_fsync,
                "split_pending": m.split_pending, "write_errors": m.write_errors,
                "uptime_seconds": round(time.monotonic() - self.started, 1)}
        return status == "listening", body

    # -- start and stop ----------------------------------------------------------------
    def prepare(self) -> list[Path]:
        """Take the landing zone: lock its state, publish what a stopped receiver left, reload
        the split packets still waiting. Returns the files published."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(parents=True, exist_ok=True)
        self._state_lock = open(self.state / "lock", "a")  # noqa: SIM115 - held for the receiver's life
        try:
            fcntl.flock(self._state_lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ReceiverError(f"another receiver is running on the landing zone {self.folder.parent} "
                                f"({self.state / 'lock'} is locked); give each receiver its own --landing") from exc
        published = recover_landing(self.folder)
        self.metrics.files += [str(p) for p in published]
        self.journal = PartsJournal(self.state / "split-packets.log")
        for arrival, frame in self.journal.load():
            total, number = frame.split or (1, 1)
            msg = self.assembler.messages.setdefault(_split_key(frame, total), _Message(_split_key(frame, total), total, arrival))
            msg.parts[number] = frame
        self.journal.rewrite(self.assembler.waiting())
        self.metrics.split_pending = len(self.assembler.messages)
        if self.assembler.messages:
            log.info("%d split messages still waiting for packets (from before the restart)", len(self.assembler.messages))
        return published

    async def serve(self, host: str, port: int, on_ready: Callable[[str, int], None] | None = None) -> ReceiverMetrics:
        """Run until SIGTERM/SIGINT (or stop()); then drain, publish and return the counters."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._reload_now = asyncio.Event()
        if self._state_lock is None:
            self.prepare()
        if self.devices.open_mode:
            log.warning("--open: every device is accepted, whatever its MN and PW (lab bench only)")
        await asyncio.to_thread(self.devices.refresh)
        self.metrics.devices = len(self.devices.devices)
        self.committer = Committer(LandingFile(self.folder), self.journal, self.metrics, self.rotate_seconds,
                                   self.assembler.waiting)
        self.committer.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self._reload_now.set)
        self._stop_wait = asyncio.ensure_future(self._stop.wait())
        try:
            server = await asyncio.start_server(self._client, host, port, limit=MAX_FRAME, ssl=self.tls,
                                                ssl_handshake_timeout=min(60.0, self.idle_timeout) if self.tls else None)
        except OSError as exc:
            self._stop_wait.cancel()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            await self.committer.close()
            raise ReceiverError(f"cannot listen on {host}:{port}: {exc}") from exc
        background = [asyncio.create_task(self._expire_splits()), asyncio.create_task(self._reload_devices())]
        addr = server.sockets[0].getsockname()
        self.address, self.phase = (addr[0], addr[1]), "listening"
        log.info("listening on %s:%s%s, landing %s", addr[0], addr[1], " (TLS)" if self.tls else "", self.folder)
        if on_ready:
            on_ready(addr[0], addr[1])
        await self._stop_wait
        self.phase = "stopping"
        server.close()  # stop accepting; the connections already open finish the frame they read
        log.info("stopping: %d connections finishing", len(self._handlers))
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=self.drain_seconds)
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await server.wait_closed()
        await self.committer.close()
        self.metrics.split_pending = len(self.assembler.messages)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        self.phase = "stopped"
        return self.metrics

    def stop(self) -> None:
        """Stop accepting, let open connections finish their current frame, publish."""
        self._stop.set()

    # -- background tasks ----------------------------------------------------------------
    async def _expire_splits(self) -> None:
        period = max(0.05, min(1.0, self.assembler.timeout / 4))
        while True:
            await asyncio.sleep(period)
            for msg in self.assembler.expired(time.time()):
                await self._quarantine_message(msg)

    async def _quarantine_message(self, msg: _Message) -> None:
        have = sorted(msg.parts)
        missing = [n for n in range(1, msg.total + 1) if n not in msg.parts]
        first = msg.parts[have[0]]
        reason = (f"split message MN={first.mn} QN={first.qn} CN={first.cn} incomplete: {len(have)} of {msg.total} "
                  f"packets arrived (missing PNO {', '.join(map(str, missing))}) within {self.assembler.timeout:g} s")
        lines = [refused_line(reason, msg.parts[n].text).encode("utf-8") for n in have]
        msg.completing = True
        try:
            await self.committer.write(landing=lines, parts=[PartsJournal.done_line(msg.key)])
        except OSError:
            msg.completing = False
            return
        self.assembler.done(msg.key)
        self.metrics.split_expired += 1
        self.metrics.split_pending = len(self.assembler.messages)
        self.metrics.refuse("split_incomplete", len(lines))
        log.warning("quarantined: %s", reason)

    async def _reload_devices(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reload_now.wait(), timeout=self.devices_reload)
            self._reload_now.clear()
            await asyncio.to_thread(self.devices.refresh)
            self.metrics.devices = len(self.devices.devices)

    # -- connections ---------------------------------------------------------------------
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        m = self.metrics
        peer = writer.get_extra_info("peername")
        if self._stop.is_set() or len(self._handlers) >= self.max_connections:
            m.connections_refused += 1
            log.warning("connection from %s refused: %s", peer,
                        "stopping" if self._stop.is_set() else f"{self.max_connections} connections open (--max-connections)")
            writer.close()
            return
        task = asyncio.current_task()
        self._handlers.add(task)
        m.connections += 1
        m.open_connections += 1
        log.debug("device connected: %s", peer)
        try:
            while not self._stop.is_set():
                raw = await self._next_frame(reader, peer)
                if raw is None:
                    break
                try:
                    reply = await self._handle(raw)
                except OSError:
                    continue  # not durable, so not answered: the device sends it again
                if reply:
                    writer.write(reply)
                    await asyncio.wait_for(writer.drain(), timeout=self.idle_timeout)
                    m.acks += 1
        except (ConnectionError, TimeoutError) as exc:
            log.info("device %s: connection ended (%s)", peer, exc.__class__.__name__)
        finally:
            m.open_connections -= 1
            self._handlers.discard(task)
            writer.close()
            log.debug("device disconnected: %s", peer)

    async def _next_frame(self, reader: asyncio.StreamReader, peer: object) -> bytes | None:
        """The next line, or None at end of stream, after --idle-timeout without one, or on stop."""
        read = asyncio.ensure_future(reader.readuntil(b"\n"))
        done, _ = await asyncio.wait({read, self._stop_wait}, timeout=self.idle_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if read not in done:
            read.cancel()
            await asyncio.gather(read, return_exceptions=True)
            if not self._stop.is_set():
                self.metrics.idle_closed += 1
                log.info("device %s: no frame for %g s, connection closed (--idle-timeout)", peer, self.idle_timeout)
            return None
        try:
            return read.result()
        except asyncio.IncompleteReadError as exc:  # end of stream; a last frame without CR LF still counts
            return exc.partial if exc.partial.strip() else None
        except asyncio.LimitOverrunError:
            return await reader.read(MAX_FRAME)  # an overlong line lands in pieces; bronze refuses them

    # -- frames ----------------------------------------------------------------------------
    async def _handle(self, raw: bytes) -> bytes | None:
        """Land one line durably; the answer to send, if any."""
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            return None
        m = self.metrics
        m.frames += 1
        if line.startswith(REFUSED_MARK.encode()):  # a device may not speak for the receiver
            await self._refuse("forged_mark", "a line from a device that begins with the receiver's refusal mark",
                               line.decode("utf-8", errors="backslashreplace"))
            return None
        try:
            frame = parse_frame(line.decode("utf-8"))
        except (UnicodeDecodeError, FrameError):
            await self.committer.write(landing=[line])  # as sent: bronze refuses it with the reason
            m.invalid += 1
            return None
        refusal = self.devices.check(frame)
        if refusal is None and frame.cn in TO_DEVICE:
            refusal = ("to_device", f"CN {frame.cn} ({TO_DEVICE[frame.cn]}) is a command an upper system sends to a "
                       "device; this receiver is the upper system and neither executes nor answers it")
        split = None
        if refusal is None:
            try:
                split = frame.split
            except FrameError as exc:
                refusal = ("bad_split", str(exc))
        if refusal:
            await self._refuse(*refusal, frame.text)
            return None
        if split:
            await self._packet(frame, *split)
        else:
            await self.committer.write(landing=[line])
            m.landed += 1
        # a 2005 frame has no QN: the answer carries the upper system's Beijing time
        answer = ack_for(frame, datetime.now(BEIJING).strftime("%Y%m%d%H%M%S%f")[:17])
        return answer.encode("utf-8") if answer else None

    async def _refuse(self, kind: str, reason: str, text: str) -> None:
        await self.committer.write(landing=[refused_line(reason, text).encode("utf-8")])
        self.metrics.refuse(kind)
        log.warning("refused (%s): %s", kind, reason)

    async def _packet(self, frame: Frame, total: int, number: int) -> None:
        """A packet of a split message: durable in the journal before its answer; the whole
        message lands as one frame when its last packet arrives."""
        m = self.metrics
        m.split_packets += 1
        if self.assembler.is_retransmission(frame, total):  # landed already: answer it again, keep it aside
            await self._refuse("split_retransmission", f"packet PNO {number} of {total} sent again after its message "
                               f"(MN={frame.mn} QN={frame.qn} CN={frame.cn}) landed whole", frame.text)
            return
        arrival = time.time()
        key, parts = self.assembler.add(frame, total, number, arrival)
        journal = [PartsJournal.part_line(arrival, key, frame)]
        if parts is None:
            await self.committer.write(parts=journal)
            m.split_pending = len(self.assembler.messages)
            return
        try:
            landing = [join_split(parts).encode("utf-8")]
            kind = None
        except FrameError as exc:
            reason = f"split message MN={frame.mn} QN={frame.qn} CN={frame.cn}: {exc}"
            landing = [refused_line(reason, p.text).encode("utf-8") for p in parts]
            kind = "split_too_long"
        try:
            await self.committer.write(landing=landing, parts=[*journal, PartsJournal.done_line(key)])
        except OSError:
            self.assembler.reopen(key)
            raise
        self.assembler.done(key, landed=kind is None)
        m.split_pending = len(self.assembler.messages)
        if kind:
            m.refuse(kind, len(landing))
        else:
            m.split_reassembled += 1
            m.landed += 1


# ---------------------------------------------------------------------------- entry points
def add_arguments(p: argparse.ArgumentParser) -> None:
    """The receiver's options (shared by `smartmon hj212-receiver` and `python -m jobs.bronze.hj212_receiver`)."""
    p.add_argument("--port", type=int, required=True, help="TCP port (0 picks a free one and prints it)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    p.add_argument("--landing", help="landing root (default: the profile's; frames go to <landing>/hj212/)")
    p.add_argument("--rotate-seconds", type=float, default=3600.0, help="publish the landing file this often")
    p.add_argument("--idle-timeout", type=float, default=300.0, metavar="SECONDS",
                   help="close a connection that sends no complete frame for this long (default 300)")
    p.add_argument("--max-connections", type=int, default=1000,
                   help="connections open at once; a new one over the limit is closed at once and counted (default 1000)")
    p.add_argument("--split-timeout", type=float, default=300.0, metavar="SECONDS",
                   help="a split message whose packets have not all arrived this long after the first is "
                   "quarantined with the reason (default 300)")
    p.add_argument("--devices", help="device registry: a Delta table path or a CSV file (mn,pw,station_id,source_id,"
                   f"protocol,active); default: the lake's {SILVER_DEVICES}")
    p.add_argument("--devices-reload", type=float, default=60.0, metavar="SECONDS",
                   help="look for registry changes this often (and on SIGHUP; default 60)")
    p.add_argument("--open", action="store_true",
                   help="accept any device, whatever its MN and PW (a lab bench; the default is closed)")
    p.add_argument("--tls-cert", metavar="PEM", help="serve TLS to devices with this certificate (chain); needs --tls-key")
    p.add_argument("--tls-key", metavar="PEM", help="the certificate's private key (unencrypted PEM)")
    p.add_argument("--metrics-port", type=int, metavar="PORT",
                   help="serve GET /healthz and Prometheus /metrics over HTTP on this port (HTTPS with --tls-cert; "
                   "0 picks a free one; default: not served)")
    p.add_argument("--metrics-host", default="127.0.0.1", help="address of the /healthz and /metrics port (default loopback)")


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run the receiver from parsed options until SIGTERM/SIGINT; the exit code."""
    from smartmon.config import is_local_uri, local_dir, settings

    landing = Path(args.landing) if args.landing else settings().landing_dir()
    location = args.devices
    if not location and not args.open:
        layer, name = SILVER_DEVICES.split(".", 1)
        uri = settings().table_path(layer, name)
        location = str(local_dir(uri)) if is_local_uri(uri) else uri
    tls = tls_context(args.tls_cert, args.tls_key)
    receiver = Receiver(landing, devices=DeviceRegistry(location, open_mode=args.open),
                        rotate_seconds=args.rotate_seconds, idle_timeout=args.idle_timeout,
                        max_connections=args.max_connections, split_timeout=args.split_timeout,
                        devices_reload=args.devices_reload, tls=tls)
    status = None
    if args.metrics_port is not None:  # before prepare(): a taken port stops the receiver before it takes the landing zone
        status = StatusServer(args.metrics_host, args.metrics_port, receiver.registry(), receiver.health, tls)
    try:
        for path in receiver.prepare():
            out(f"hj212-receiver: published {path}, left by a receiver that had stopped")
        if status is not None:
            status.start()
            out(f"hj212-receiver status at {status.url}/healthz and {status.url}/metrics")

        def ready(host: str, port: int) -> None:
            out(f"hj212-receiver listening on {host}:{port}, {'TLS, ' if tls else ''}landing {receiver.folder}, devices "
                f"{'any (--open)' if args.open else location}")
            sys.stdout.flush()

        metrics = asyncio.run(receiver.serve(args.host, args.port, ready))
    finally:
        if status is not None:
            status.stop()
    out(f"hj212-receiver stopped: {metrics.summary()}; files {metrics.files}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m jobs.bronze.hj212_receiver ...`: the receiver without the smartmon CLI's imports."""
    parser = argparse.ArgumentParser(prog="hj212-receiver", description=__doc__.split("\n", 1)[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname).1s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        return run(args)
    except SmartmonError as exc:
        print(f"hj212-receiver: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
