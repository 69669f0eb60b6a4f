"""The HJ 212 receiver over loopback with the real frames: several devices at once, acks when
asked, every frame landed, and the bronze job quarantines the bad ones."""

import csv
import re
import signal
import socket
import subprocess
import sys
import threading

from jobs.bronze.ingest import ingest
from smartmon.standards.hj212 import FrameError, parse_frame


def _frames(data_root):
    with open(data_root / "hj212_messages/hj212_messages.tsv", encoding="utf-8") as fh:
        return [r["message"] for r in csv.DictReader(fh, delimiter="\t")]


def _wants_ack(frame: str) -> bool:
    try:
        return parse_frame(frame).wants_ack
    except FrameError:
        return False


def test_receiver_lands_frames_and_acknowledges(lake, tmp_path, data_root):
    frames = _frames(data_root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "hj212-receiver", "--port", "0", "--landing", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        port = int(re.search(r":(\d+),", line).group(1))
        replies: dict[int, bytes] = {}

        def device(k: int) -> None:
            mine = frames[k::3]
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.settimeout(1.0)
                got, expected = b"", 0
                for f in mine:
                    s.sendall(f.encode() + b"\r\n")
                    if _wants_ack(f):
                        expected += 1
                        while got.count(b"\r\n") < expected:
                            got += s.recv(4096)
                replies[k] = got

        threads = [threading.Thread(target=device, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        acks = [parse_frame(a) for k in replies for a in replies[k].decode().split("\r\n") if a]
        assert len(acks) == sum(_wants_ack(f) for f in frames) > 0
        assert all(a.st == "91" and a.cn in ("9011", "9014") for a in acks)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "27 frames (19 verified, 8 refused)" in out
    landed = sorted((tmp_path / "hj212").glob("*.hj212"))
    assert len(landed) == 1 and not list((tmp_path / "hj212").glob("*.part"))
    assert sorted(landed[0].read_text(encoding="utf-8").splitlines()) == sorted(frames)
    (report,) = ingest(lake, "hj212", [tmp_path / "hj212"])
    assert (report.total("read"), report.total("accepted"), report.total("quarantined")) == (27, 19, 8)
