"""The HJ 212 receiver as a real process on loopback (no Spark): what it acknowledges is on disk
and published after kill -9 or SIGTERM, idle and surplus connections are closed, split messages
are reassembled (or quarantined when a packet is missing), devices are authenticated, both
protocol versions are read, and it answers only what an upper system answers."""

from __future__ import annotations

import fcntl
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from smartmon.standards.hj212 import FrameError, build_frame, parse_frame
from tests.receivers import STARTED, no_receiver_outlives_its_test  # noqa: F401 - the autouse fixture applies here

MN, PW = "010000A8900016F000169DC0", "123456"
REPO = Path(__file__).resolve().parents[2]


def frame(qn: str, *, cn: str = "2011", flag: str | None = "5", mn: str = MN, pw: str = PW, extra: str = "",
          cp: str = "DataTime=20240101000000;a34004-Rtd=12.5,a34004-Flag=N") -> bytes:
    head = f"QN={qn};ST=22;CN={cn};PW={pw};MN={mn}" + (f";Flag={flag}" if flag is not None else "") + extra
    return build_frame(f"{head};CP=&&{cp}&&").encode()




class Receiver:
    """A receiver process (`python -m jobs.bronze.hj212_receiver`) on a free loopback port."""

    def __init__(self, landing: Path, *args: str, devices: Path | None = None) -> None:
        cmd = [sys.executable, "-m", "jobs.bronze.hj212_receiver", "--port", "0", "--landing", str(landing), *args]
        if devices is not None:
            cmd += ["--devices", str(devices)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        STARTED.append(self.proc)
        self.lines = []
        for line in self.proc.stdout:
            self.lines.append(line)
            if "listening on" in line:
                break
        else:
            raise AssertionError(f"receiver did not start: {self.proc.stderr.read()}")
        self.port = int(re.search(r":(\d+),", self.lines[-1]).group(1))
        self.sockets: list[socket.socket] = []

    def connect(self, timeout: float = 5.0) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return s

    def stop(self, sig: int = signal.SIGTERM) -> tuple[str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=20)
        return "".join(self.lines) + out, err


def replies(s: socket.socket, n: int, timeout: float = 5.0) -> list:
    """The next n answers as parsed frames."""
    got, deadline = b"", time.monotonic() + timeout
    while got.count(b"\r\n") < n and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    return [parse_frame(x) for x in got.decode().split("\r\n") if x]


def landed(landing: Path, suffix: str = ".hj212") -> list[str]:
    return [line for p in sorted((landing / "hj212").glob(f"*{suffix}")) for line in p.read_text(encoding="utf-8").splitlines()]


def reason(line: str) -> str | None:
    """Why bronze refuses a landed line (None: it accepts it)."""
    try:
        parse_frame(line)
    except FrameError as exc:
        return str(exc)
    return None


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "devices.csv"
    path.write_text(f"mn,pw,station_id,source_id,protocol,active\n{MN},{PW},1001A,,,true\n"
                    "88888880000001,654321,,E1,2005,true\nRETIRED1,123456,1002A,,,false\n", encoding="utf-8")
    return path


def _stream(rx: Receiver, acked: list[str], stop_after: int, devices: int = 4, count: int = 300) -> threading.Event:
    """Busy devices: each sends `count` frames without waiting for answers, and the QNs answered
    are collected; the event is set once `stop_after` answers arrived. The sockets stay open."""
    enough = threading.Event()
    lock = threading.Lock()

    def device(k: int) -> None:
        s = rx.connect()
        rx.sockets.append(s)
        threading.Thread(target=lambda: s.sendall(b"".join(frame(f"2024010100{k:03d}{i:04d}") for i in range(count))),
                         daemon=True).start()
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            *whole, buf = buf.split(b"\r\n")
            with lock:
                acked.extend(parse_frame(x.decode()).qn for x in whole if x)
                if len(acked) >= stop_after:
                    enough.set()

    for k in range(devices):
        threading.Thread(target=device, args=(k,), daemon=True).start()
    return enough


def test_kill_9_loses_no_acknowledged_frame(tmp_path, registry):
    rx = Receiver(tmp_path, devices=registry)
    acked: list[str] = []
    assert _stream(rx, acked, stop_after=40).wait(10)
    rx.proc.kill()  # SIGKILL, while frames are still arriving
    rx.proc.wait(10)
    seen = list(acked)
    assert len(seen) >= 40 and list((tmp_path / "hj212").glob("*.part")) and not landed(tmp_path)
    rx2 = Receiver(tmp_path, devices=registry)  # the restart publishes what the killed one left
    assert "published" in rx2.lines[0]
    assert not list((tmp_path / "hj212").glob("*.part"))
    lines = landed(tmp_path)
    qns = {parse_frame(x).qn for x in lines if reason(x) is None}
    assert set(seen) <= qns  # every acknowledged frame is in a published file
    assert all(reason(x) is None or reason(x).startswith("receiver: torn line") for x in lines)
    out, err = rx2.stop()
    assert rx2.proc.returncode == 0 and "Traceback" not in err


def test_sigterm_stops_accepting_finishes_in_flight_frames_publishes_and_exits_0(tmp_path, registry):
    rx = Receiver(tmp_path, devices=registry)
    acked: list[str] = []
    assert _stream(rx, acked, stop_after=30).wait(10)
    out, err = rx.stop(signal.SIGTERM)
    time.sleep(0.2)  # the reader thread takes the last answers
    assert rx.proc.returncode == 0, err
    assert "Traceback" not in err and "CancelledError" not in err
    assert not list((tmp_path / "hj212").glob("*.part"))
    lines = landed(tmp_path)
    assert set(acked) <= {parse_frame(x).qn for x in lines}  # acked after the signal too: still published
    assert all(reason(x) is None for x in lines)
    assert "hj212-receiver stopped:" in out
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", rx.port), timeout=1).close()


def test_a_torn_part_file_is_published_with_the_torn_line_refused_and_a_live_one_left_alone(tmp_path, registry):
    folder = tmp_path / "hj212"
    folder.mkdir()
    whole = frame("20240101000000001").decode().rstrip("\r\n")
    (folder / "received-1-1.hj212.part").write_bytes(whole.encode() + b"\n" + frame("2")[:30])
    live = folder / "received-2-2.hj212.part"
    live.write_bytes(whole.encode() + b"\n")
    with open(live, "rb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # another receiver is still writing this one
        rx = Receiver(tmp_path, devices=registry)
        rx.stop()
    assert live.exists() and not (folder / "received-1-1.hj212.part").exists()
    lines = (folder / "received-1-1.hj212").read_text(encoding="utf-8").splitlines()
    assert lines[0] == whole and reason(lines[1]).startswith("receiver: torn line")
    assert lines[1].endswith(frame("2")[:30].decode())


def test_an_idle_connection_is_closed_and_surplus_connections_are_refused(tmp_path, registry):
    rx = Receiver(tmp_path, "--idle-timeout", "0.5", "--max-connections", "2", devices=registry)
    a, b = rx.connect(), rx.connect()
    a.sendall(frame("1"))
    assert replies(a, 1)[0].qn == "1"
    time.sleep(0.1)
    c = rx.connect()
    assert c.recv(100) == b""  # the third connection is closed at once
    t0 = time.monotonic()
    assert b.recv(100) == b""  # silent: closed after the idle timeout
    assert 0.3 < time.monotonic() - t0 < 3
    assert a.recv(100) == b""  # silent after its frame: closed too
    out, err = rx.stop()
    assert "(1 refused, 2 idle-closed)" in out, out


def test_split_packets_reassemble_into_one_record_each_packet_acknowledged(tmp_path, registry):
    rx = Receiver(tmp_path, devices=registry)
    s = rx.connect()
    parts = [(1, "a34004-Avg=1.1,a34004-Flag=N"), (3, "a34002-Avg=3.3,a34002-Flag=N"), (2, "a21026-Avg=2.2,a21026-Flag=N")]
    for n, cp in parts:  # 2017: D bit, packets out of order
        s.sendall(frame("20240101000000100", cn="2051", flag="7", extra=f";PNUM=3;PNO={n}", cp=f"DataTime=20240101000000;{cp}"))
        assert replies(s, 1)[0].cn == "9014"
    s.sendall(frame("20240101000000100", cn="2051", flag="7", extra=";PNUM=3;PNO=2", cp="DataTime=20240101000000;x-Avg=0"))
    assert replies(s, 1)[0].cn == "9014"  # a retransmission after the message landed: answered, kept aside
    s.sendall(frame("20240101000000200", cn="2051", flag=None, mn="88888880000001", pw="654321", extra=";PNUM=0002;PNO=0001",
                    cp="DataTime=20240101000000;011-Avg=5"))  # 2005 style: PNUM/PNO, no Flag, no answer asked
    s.sendall(frame("20240101000000200", cn="2051", flag=None, mn="88888880000001", pw="654321", extra=";PNUM=0002;PNO=0002",
                    cp="DataTime=20240101000000;060-Avg=6"))
    s.close()
    time.sleep(0.3)
    out, err = rx.stop()
    lines = landed(tmp_path)
    assert len(lines) == 3, lines
    assert reason(lines[1]) == ("receiver: packet PNO 2 of 3 sent again after its message "
                                f"(MN={MN} QN=20240101000000100 CN=2051) landed whole")
    first, second = (parse_frame(x) for x in (lines[0], lines[2]))
    assert first.cp == "DataTime=20240101000000;a34004-Avg=1.1,a34004-Flag=N;a21026-Avg=2.2,a21026-Flag=N;a34002-Avg=3.3,a34002-Flag=N"
    assert first.flag == 5 and first.split is None and first.qn == "20240101000000100"
    assert second.cp == "DataTime=20240101000000;011-Avg=5;060-Avg=6" and second.protocol == "2005"
    assert "2 split messages reassembled, 0 waiting" in out


def test_a_split_message_missing_a_packet_is_quarantined_with_the_reason(tmp_path, registry):
    rx = Receiver(tmp_path, "--split-timeout", "0.5", devices=registry)
    s = rx.connect()
    for n in (1, 3):
        s.sendall(frame("20240101000000300", cn="2051", flag="7", extra=f";PNUM=3;PNO={n}"))
        assert replies(s, 1)[0].cn == "9014"  # each packet is durable (journal) and acknowledged
    time.sleep(1.5)
    out, err = rx.stop()
    lines = landed(tmp_path)
    assert len(lines) == 2
    for line in lines:
        assert re.fullmatch(r"receiver: split message MN=\S+ QN=20240101000000300 CN=2051 incomplete: 2 of 3 packets "
                            r"arrived \(missing PNO 2\) within 0.5 s", reason(line)), reason(line)
    assert "split_incomplete 2" in out


def test_a_waiting_split_message_survives_kill_9(tmp_path, registry):
    rx = Receiver(tmp_path, devices=registry)
    s = rx.connect()
    s.sendall(frame("20240101000000400", cn="2061", flag="7", extra=";PNUM=2;PNO=1", cp="DataTime=20240101000000;a-Avg=1"))
    assert replies(s, 1)[0].cn == "9014"
    rx.proc.kill()
    rx.proc.wait(10)
    rx2 = Receiver(tmp_path, devices=registry)
    s = rx2.connect()
    s.sendall(frame("20240101000000400", cn="2061", flag="7", extra=";PNUM=2;PNO=2", cp="DataTime=20240101000000;b-Avg=2"))
    assert replies(s, 1)[0].cn == "9014"
    rx2.stop()
    (line,) = landed(tmp_path)
    assert parse_frame(line).cp == "DataTime=20240101000000;a-Avg=1;b-Avg=2"


def test_unknown_devices_and_wrong_passwords_get_no_answer_and_are_quarantined(tmp_path, registry):
    rx = Receiver(tmp_path, devices=registry)
    s = rx.connect()
    s.sendall(frame("1", mn="NOBODY") + frame("2", pw="000000") + frame("3", mn="RETIRED1") + frame("4"))
    got = replies(s, 1)
    assert [r.qn for r in got] == ["4"]  # the only answer is the registered device's
    s.settimeout(0.3)
    with pytest.raises(TimeoutError):
        s.recv(100)
    out, err = rx.stop()
    reasons = [reason(x) for x in landed(tmp_path)]
    assert reasons == ["receiver: unknown device MN=NOBODY: not in the device registry",
                       f"receiver: wrong access password (PW) for device MN={MN}",
                       "receiver: device MN=RETIRED1 is deactivated in the device registry", None]
    assert "unknown_device 1" in out and "wrong_password 1" in out


def test_without_a_registry_everything_is_refused_loudly_unless_open(tmp_path):
    rx = Receiver(tmp_path, devices=tmp_path / "none.csv")
    s = rx.connect()
    s.sendall(frame("1"))
    s.settimeout(0.5)
    with pytest.raises(TimeoutError):
        s.recv(100)
    out, err = rx.stop()
    assert "none.csv does not exist: every device is refused" in err
    assert reason(landed(tmp_path)[0]).startswith("receiver: no device registry")
    rx = Receiver(tmp_path / "bench", "--open")
    s = rx.connect()
    s.sendall(frame("1", mn="ANY", pw="x"))
    assert replies(s, 1)[0].cn == "9014"
    out, err = rx.stop()
    assert "--open: every device is accepted" in err


def test_the_registry_is_reloaded_on_sighup(tmp_path, registry):
    rx = Receiver(tmp_path, "--devices-reload", "3600", devices=registry)
    s = rx.connect()
    s.sendall(frame("1", mn="NEWCOMER"))
    deadline = time.monotonic() + 5
    while not landed(tmp_path, ".part") and time.monotonic() < deadline:  # refused before the registry changes
        time.sleep(0.02)
    registry.write_text(registry.read_text() + "NEWCOMER,123456,1003A,,,true\n", encoding="utf-8")
    rx.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    s.settimeout(0.2)
    while time.monotonic() < deadline:
        s.sendall(frame("2", mn="NEWCOMER"))
        try:
            if s.recv(1000):
                break
        except TimeoutError:
            continue
    else:
        raise AssertionError("the new device was never accepted")
    rx.stop()
    assert reason(landed(tmp_path)[0]) == "receiver: unknown device MN=NEWCOMER: not in the device registry"


def test_both_protocol_versions_are_read_and_answered_in_their_own(tmp_path, registry):
    rx = Receiver(tmp_path, devices=registry)
    s = rx.connect()
    s.sendall(frame("1", flag="5"))  # 2017, A bit
    assert (r := replies(s, 1)[0]).flag == 4 and r.cn == "9014"
    s.sendall(frame("2", flag="1", mn="88888880000001", pw="654321", cp="DataTime=20160801000000;011-Rtd=3"))  # 2005, A bit
    assert (r := replies(s, 1)[0]).flag == 0 and r.qn == "2"
    s.sendall(frame("3", flag="5", mn="88888880000001", pw="654321"))  # registered for 2005, sends 2017
    s.sendall(build_frame(f"ST=22;CN=2011;PW={PW};MN={MN};CP=&&DataTime=20160824000000;01-Rtd=1&&").encode())  # 2005: no QN, no Flag
    s.sendall(frame("4", flag="4"))
    s.settimeout(0.5)
    with pytest.raises(TimeoutError):
        s.recv(100)  # neither the refused frame nor those without the A bit are answered
    rx.stop()
    reasons = [reason(x) for x in landed(tmp_path)]
    assert reasons == [None, None, "receiver: device MN=88888880000001 is registered for HJ 212-2005, the frame's Flag says 2017",
                       None, None]


def test_it_answers_as_the_upper_system_never_as_a_device(tmp_path, registry):
    rx = Receiver(tmp_path, devices=registry)
    s = rx.connect()
    s.sendall(frame("1", cn="1062", cp="RtdInterval=30"))  # a command for a device: not executed, not answered
    s.sendall(frame("2", cn="9011", cp="QnRtn=1"))  # a device's replies: recorded, not answered
    s.sendall(frame("3", cn="9012", cp="ExeRtn=1"))
    s.sendall(frame("4", cn="1013", cp="PolId=a34004"))  # a notification: 9013
    s.sendall(frame("5", cn="2061"))  # an upload: 9014
    got = replies(s, 2)
    assert [(r.qn, r.cn, r.st) for r in got] == [("4", "9013", "91"), ("5", "9014", "91")]
    s.settimeout(0.3)
    with pytest.raises(TimeoutError):
        s.recv(100)
    rx.stop()
    lines = landed(tmp_path)
    assert reason(lines[0]).startswith("receiver: CN 1062 (set the real-time data interval) is a command an upper system sends")
    assert [parse_frame(x).cn for x in lines[1:]] == ["9011", "9012", "1013", "2061"]


def test_a_second_receiver_on_the_same_landing_zone_refuses_to_start(tmp_path, registry):
    rx = Receiver(tmp_path, devices=registry)
    second = subprocess.run([sys.executable, "-m", "jobs.bronze.hj212_receiver", "--port", "0", "--landing", str(tmp_path),
                             "--devices", str(registry)], capture_output=True, text=True, timeout=20, cwd=REPO)
    rx.stop()
    assert second.returncode == 1 and "another receiver is running on the landing zone" in second.stderr
    assert "Traceback" not in second.stderr


def test_metrics_are_one_plain_object():
    from jobs.bronze.hj212_receiver import ReceiverMetrics

    m = ReceiverMetrics()
    m.refuse("unknown_device")
    snap = m.snapshot()
    assert snap["refused"] == 1 and snap["refusals"] == {"unknown_device": 1}
    assert {"frames", "acks", "connections", "connections_refused", "queue_depth", "commits"} <= set(snap)


def test_a_device_row_is_checked_before_it_reaches_the_registry():
    from pipelines.cli_devices import device_row
    from smartmon.errors import InputError

    row = device_row(MN, PW, station_id="1001A", protocol="2017")
    assert (row["mn"], row["pw"], row["active"], row["source"]) == (MN, PW, True, "devices-cli")
    for bad in ({"mn": "A;B", "pw": PW}, {"mn": MN, "pw": "pw with space"}, {"mn": MN, "pw": ""}):
        with pytest.raises(InputError, match="HJ 212 header field"):
            device_row(bad["mn"], bad["pw"], station_id="1001A")
    with pytest.raises(InputError, match="protocol"):
        device_row(MN, PW, station_id="1001A", protocol="2010")
    with pytest.raises(InputError, match="station"):
        device_row(MN, PW)
