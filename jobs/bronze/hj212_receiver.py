"""A real HJ 212 receiver: devices connect over TCP and send frames ending in CR LF.

Every frame received, valid or not, is appended to the landing zone exactly as sent (the
bronze job verifies it again and quarantines the bad ones with the reason), and a frame whose
Flag asks for it (A bit) and which verifies gets its acknowledgement. Frames go to
<landing>/hj212/received-<time>-<pid>.hj212.part; on rotation (every rotate_seconds, and on
shutdown) the file is renamed to .hj212, which is what the bronze job picks up, so it never
reads a file still being written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from smartmon.standards.hj212 import FrameError, ack_for, parse_frame

log = logging.getLogger(__name__)
MAX_FRAME = 16 * 1024


@dataclass
class ReceiverStats:
    connections: int = 0
    frames: int = 0
    accepted: int = 0
    rejected: int = 0
    acks: int = 0
    files: list[str] = field(default_factory=list)


class Receiver:
    def __init__(self, landing: Path, rotate_seconds: float = 3600.0) -> None:
        self.folder = landing / "hj212"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rotate_seconds = rotate_seconds
        self.stats = ReceiverStats()
        self._fh = None
        self._path: Path | None = None

    # -- landing files ---------------------------------------------------------------
    def _open(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self._path = self.folder / f"received-{stamp}-{os.getpid()}.hj212.part"
        self._fh = open(self._path, "ab")  # noqa: SIM115 - kept open between frames

    def _append(self, raw: bytes) -> None:
        if self._fh is None:
            self._open()
        self._fh.write(raw.rstrip(b"\r\n") + b"\n")
        self._fh.flush()

    def rotate(self) -> Path | None:
        """Close the current file and publish it for the bronze job."""
        if self._fh is None or self._path is None:
            return None
        self._fh.close()
        done = self._path.with_suffix("")  # drop .part
        self._path.rename(done)
        self.stats.files.append(str(done))
        log.info("landing file ready: %s", done)
        self._fh, self._path = None, None
        return done

    # -- protocol --------------------------------------------------------------------
    def handle_frame(self, raw: bytes) -> bytes | None:
        self.stats.frames += 1
        self._append(raw)
        text = raw.decode("utf-8", errors="replace").strip()
        try:
            frame = parse_frame(text)
        except FrameError as exc:
            self.stats.rejected += 1
            log.warning("frame refused (%s): %s", exc, text[:80])
            return None
        self.stats.accepted += 1
        ack = ack_for(frame, datetime.now(UTC).strftime("%Y%m%d%H%M%S000"))
        if ack:
            self.stats.acks += 1
            return ack.encode("utf-8")
        return None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        self.stats.connections += 1
        log.info("device connected: %s", peer)
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError as exc:
                    if exc.partial.strip():
                        self.handle_frame(exc.partial)  # a frame cut off by the disconnect
                    break
                except asyncio.LimitOverrunError:
                    data = await reader.read(MAX_FRAME)
                    self.handle_frame(data)
                    continue
                reply = self.handle_frame(raw)
                if reply:
                    writer.write(reply)
                    await writer.drain()
        finally:
            writer.close()
            log.info("device disconnected: %s", peer)

    async def serve(self, host: str, port: int, ready: asyncio.Event | None = None) -> None:
        server = await asyncio.start_server(self._client, host, port, limit=MAX_FRAME)
        addr = server.sockets[0].getsockname()
        print(f"hj212-receiver listening on {addr[0]}:{addr[1]}, landing {self.folder}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        if ready:
            ready.set()

        async def rotator() -> None:
            while True:
                await asyncio.sleep(self.rotate_seconds)
                self.rotate()

        rot = asyncio.create_task(rotator())
        async with server:
            await stop.wait()
        rot.cancel()
        self.rotate()
        s = self.stats
        print(f"hj212-receiver stopped: {s.connections} connections, {s.frames} frames "
              f"({s.accepted} verified, {s.rejected} refused), {s.acks} acks, files {s.files}", flush=True)


def serve(landing: Path, host: str, port: int, rotate_seconds: float) -> ReceiverStats:
    receiver = Receiver(landing, rotate_seconds)
    asyncio.run(receiver.serve(host, port))
    return receiver.stats
