"""The HJ 212 receiver over loopback with the real frames, through to bronze: several devices at
once, answers only to registered devices that ask, every line landed and accounted for
(read = bronze + quarantine, refusals with the receiver's reason), acknowledged frames reach
bronze after a kill -9, and the device registry is the lake's silver.devices read by delta-rs.
The receiver's own behaviour without Spark: tests/unit/test_hj212_receiver.py."""

import csv
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from pyspark.sql import functions as F

from jobs.bronze.ingest import ingest
from pipelines.cli_devices import add_devices, device_row
from smartmon.catalog.names import BRONZE_HJ212_FRAMES, BRONZE_QUARANTINE, SILVER_DEVICES
from smartmon.standards.hj212 import FrameError, ack_for, build_frame, parse_frame
from tests.receivers import REGISTERED, STARTED, no_receiver_outlives_its_test  # noqa: F401 - the autouse fixture applies here


def _frames(data_root):
    with open(data_root / "hj212_messages/hj212_messages.tsv", encoding="utf-8") as fh:
        return [r["message"] for r in csv.DictReader(fh, delimiter="\t")]


def _answered(frame: str) -> bool:
    """Whether the upper system answers it: verified, a registered device with its password, not
    a packet of a split message, and an answer asked for and due (no 9011/9012, no CN 1062)."""
    try:
        f = parse_frame(frame)
        split = f.split
    except FrameError:
        return False
    return REGISTERED.get(f.mn) == f.pw and split is None and ack_for(f, "x") is not None




def _start(args, cli: bool = True):
    """A receiver process through `smartmon hj212-receiver` (or the module's own entry point,
    a few seconds faster to start); (process, port, its listening line)."""
    entry = ["pipelines.cli", "hj212-receiver"] if cli else ["jobs.bronze.hj212_receiver"]
    proc = subprocess.Popen([sys.executable, "-m", *entry, "--port", "0", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    STARTED.append(proc)
    for line in proc.stdout:
        if "listening on" in line:
            return proc, int(re.search(r":(\d+),", line).group(1)), line
    raise AssertionError(proc.stderr.read())


def _kill_9_after_20_acks(landing, registry) -> list[str]:
    """The issue's measurement: 20 frames acknowledged one by one, then SIGKILL; the QNs acked."""
    proc, port, _ = _start(["--landing", landing, "--devices", registry], cli=False)
    qns = [f"20240102030405{i:03d}" for i in range(20)]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        for qn in qns:
            s.sendall(build_frame(f"QN={qn};ST=22;CN=2011;PW=123456;MN=KILL9DEVICE;Flag=5;"
                                  "CP=&&DataTime=20240102030000;a34004-Rtd=20,a34004-Flag=N&&").encode())
            reply = b""
            while not reply.endswith(b"\r\n"):
                reply += s.recv(4096)
            assert parse_frame(reply.decode()).qn == qn
        proc.kill()
        proc.wait(10)
    return qns


def test_receiver_to_bronze_every_line_accounted_for_and_acked_frames_survive_kill_9(lake, tmp_path, data_root):
    frames = _frames(data_root)
    registry = tmp_path / "devices.csv"
    registry.write_text("mn,pw,source_id\n" + "".join(f"{mn},{pw},E-{mn}\n" for mn, pw in {**REGISTERED, "KILL9DEVICE": "123456"}.items()),
                        encoding="utf-8")
    killed = tmp_path / "killed"
    acked = _kill_9_after_20_acks(killed, registry)
    assert list((killed / "hj212").glob("*.part")) and not list((killed / "hj212").glob("*.hj212"))
    proc, port, _ = _start(["--landing", tmp_path, "--devices", registry, "--split-timeout", "0.3"])
    try:
        replies: dict[int, bytes] = {}

        def device(k: int) -> None:
            mine = frames[k::3]
            expected = sum(_answered(f) for f in mine)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"".join(f.encode() + b"\r\n" for f in mine))
                got = b""
                while got.count(b"\r\n") < expected:
                    got += s.recv(4096)
                replies[k] = got

        threads = [threading.Thread(target=device, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        acks = [parse_frame(a) for k in replies for a in replies[k].decode().split("\r\n") if a]
        assert len(acks) == sum(_answered(f) for f in frames) == 5
        assert all(a.st == "91" and a.cn == "9014" for a in acks)
        time.sleep(0.8)  # the lone packet 2 of 2 times out and is quarantined
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "27 frames: 15 landed, 8 invalid, 4 refused" in out, out
    landed = sorted((tmp_path / "hj212").glob("*.hj212"))
    assert len(landed) == 1 and not list((tmp_path / "hj212").glob("*.part"))
    lines = landed[0].read_text(encoding="utf-8").splitlines()
    assert sorted(line.split("\t")[-1] for line in lines) == sorted(frames)  # every frame, as sent
    # the killed receiver's landing zone: a restart publishes it, and the 20 acknowledged frames reach bronze
    proc, _, _ = _start(["--landing", killed, "--devices", registry], cli=False)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err
    (report,) = ingest(lake, "hj212", [tmp_path / "hj212", killed / "hj212"])  # one Spark ingest for both
    (live,) = [f for f in report.files if f.path == str(landed[0])]
    (after_kill,) = [f for f in report.files if f.path != str(landed[0])]
    assert (live.read, live.accepted, live.quarantined) == (27, 15, 12)
    assert (after_kill.read, after_kill.accepted, after_kill.quarantined) == (20, 20, 0) and report.lost == 0
    got = {r.qn for r in lake.read(BRONZE_HJ212_FRAMES).where(F.col("source_file") == after_kill.path).select("qn").collect()}
    assert got == set(acked)
    reasons = {r.reason for r in lake.read(BRONZE_QUARANTINE).where(F.col("source_file") == str(landed[0])).collect()}
    assert {"HJ 212 frame refused: receiver: unknown device MN=41050022000017: not in the device registry",
            "HJ 212 frame refused: receiver: wrong access password (PW) for device MN=010000A8900016F000169DC0",
            "HJ 212 frame refused: receiver: wrong access password (PW) for device MN=LD130133000015"} <= reasons
    assert any(r.startswith("HJ 212 frame refused: receiver: split message MN=14513567846884") and "missing PNO 1" in r
               for r in reasons)


def test_the_default_registry_is_the_lakes_silver_devices_read_without_spark(lake, tmp_path):
    """`smartmon devices add` writes silver.devices; the receiver (no --devices) reads it with delta-rs."""
    add_devices(lake, [device_row("DELTADEVICE1", "s3cret", station_id="1001A", protocol="2017", note="test")])
    add_devices(lake, [device_row("DELTADEVICE2", "123456", source_id="E1", active=False)])
    assert lake.read(SILVER_DEVICES).count() >= 2
    proc, port, listening = _start(["--landing", tmp_path])  # SMARTMON_LAKE (conftest) is inherited: the test lake
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            for mn, pw, qn in (("DELTADEVICE2", "123456", "1"), ("DELTADEVICE1", "wrong", "2"), ("DELTADEVICE1", "s3cret", "3")):
                s.sendall(build_frame(f"QN={qn};ST=22;CN=2011;PW={pw};MN={mn};Flag=5;CP=&&DataTime=20240101000000&&").encode())
            reply = b""
            while not reply.endswith(b"\r\n"):
                reply += s.recv(4096)
            assert parse_frame(reply.decode()).qn == "3"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert listening.rstrip().endswith(f"devices {lake.cfg.table_path('silver', 'devices').removeprefix('file://')}")
    assert "1 landed" in out and "inactive_device 1" in out and "wrong_password 1" in out
