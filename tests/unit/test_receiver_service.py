"""The HJ 212 receiver as a service (no Spark): /healthz and Prometheus /metrics on its status
port after real frames, and TLS for devices and the status port with a certificate made in the test.

The receiver runs as a process (`python -m jobs.bronze.hj212_receiver`) on loopback, as in
test_hj212_receiver.py; the frames are the HJ 212 samples of the data root
(hj212_messages/hj212_messages.tsv), sent as a device would. Only the socket side is tested:
what reaches bronze is tests/integration/test_receiver.py's (it needs Spark).
"""

from __future__ import annotations

import csv
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jobs.bronze.hj212_receiver import DeviceRegistry, Receiver
from smartmon.standards.hj212 import FrameError, ack_for, build_frame, parse_frame
from tests.receivers import REGISTERED, STARTED, no_receiver_outlives_its_test  # noqa: F401 - the autouse fixture applies here

REPO = Path(__file__).resolve().parents[2]



@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "devices.csv"
    path.write_text("mn,pw\n" + "".join(f"{mn},{pw}\n" for mn, pw in REGISTERED.items()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def samples(data_root: Path) -> list[str]:
    with open(data_root / "hj212_messages" / "hj212_messages.tsv", encoding="utf-8") as fh:
        return [r["message"] for r in csv.DictReader(fh, delimiter="\t")]


def answered(frame: str) -> bool:
    """Whether the receiver answers it (see tests/integration/test_receiver.py)."""
    try:
        f = parse_frame(frame)
        split = f.split
    except FrameError:
        return False
    return REGISTERED.get(f.mn) == f.pw and split is None and ack_for(f, "x") is not None


class Running:
    """A receiver process with its status port; `status` is the base URL of /healthz and /metrics."""

    def __init__(self, landing: Path, *args: str) -> None:
        cmd = [sys.executable, "-m", "jobs.bronze.hj212_receiver", "--port", "0", "--metrics-port", "0",
               "--landing", str(landing), *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        STARTED.append(self.proc)
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            if "listening on" in line:
                break
        else:
            raise AssertionError(f"receiver did not start: {self.proc.stderr.read()}")
        text = "".join(lines)
        self.port = int(re.search(r"listening on [^:]+:(\d+),", text).group(1))
        self.status = re.search(r"status at (\S+)/healthz and ", text).group(1)
        self.listening_line = lines[-1]

    def stop(self) -> tuple[str, str]:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.communicate(timeout=30)


def get(url: str, context: ssl.SSLContext | None = None) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as resp:
            return resp.status, resp.headers["content-type"], resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["content-type"], exc.read().decode()


def metrics(rx: Running, context: ssl.SSLContext | None = None) -> dict[tuple[str, tuple], float]:
    status, content_type, text = get(rx.status + "/metrics", context)
    assert status == 200 and content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for fam in text_string_to_metric_families(text) for s in fam.samples}


def wait_for(rx: Running, name: str, value: float, context: ssl.SSLContext | None = None, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        got = metrics(rx, context)
        if got.get((name, ())) == value or time.monotonic() > deadline:
            assert got.get((name, ())) == value, (name, got.get((name, ())))
            return got
        time.sleep(0.05)


def read_acks(s: socket.socket, n: int) -> list:
    got, deadline = b"", time.monotonic() + 10
    while got.count(b"\r\n") < n and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    return [parse_frame(x) for x in got.decode().split("\r\n") if x]


def test_metrics_and_health_after_the_sample_frames(tmp_path, registry, samples):
    rx = Running(tmp_path, "--devices", str(registry), "--split-timeout", "0.3")
    status, content_type, body = get(rx.status + "/healthz")
    health = json.loads(body)
    assert status == 200 and content_type == "application/json"
    assert health["status"] == "ok" and health["listening"] and health["address"] == f"127.0.0.1:{rx.port}"
    assert (health["devices"], health["device_registry"], health["tls"]) == (len(REGISTERED), "loaded", False)

    expected_acks = sum(answered(f) for f in samples)
    with socket.create_connection(("127.0.0.1", rx.port), timeout=10) as s:
        s.sendall(b"".join(f.encode() + b"\r\n" for f in samples))
        assert len(read_acks(s, expected_acks)) == expected_acks == 5
        got = wait_for(rx, "smartmon_hj212_frames_received_total", len(samples))
        assert got[("smartmon_hj212_open_connections", ())] == 1
    got = wait_for(rx, "smartmon_hj212_split_expired_total", 1)  # the lone packet 1 of 2 times out
    got = wait_for(rx, "smartmon_hj212_open_connections", 0)
    assert got[("smartmon_hj212_acks_sent_total", ())] == 5
    assert got[("smartmon_hj212_connections_total", ())] == 1
    assert (got[("smartmon_hj212_frames_landed_total", ())], got[("smartmon_hj212_frames_invalid_total", ())]) == (15, 8)
    refusals = {dict(k[1])["reason"]: v for k, v in got.items() if k[0] == "smartmon_hj212_refusals_total"}
    assert refusals == {"unknown_device": 1, "wrong_password": 2, "split_incomplete": 1}
    assert got[("smartmon_hj212_queue_depth", ())] == 0 and got[("smartmon_hj212_not_durable", ())] == 0
    assert got[("smartmon_hj212_split_pending", ())] == 0 and got[("smartmon_hj212_listening", ())] == 1
    assert got[("smartmon_hj212_fsyncs_total", ())] >= 1 and got[("smartmon_hj212_write_errors_total", ())] == 0
    assert got[("smartmon_hj212_devices", ())] == len(REGISTERED)
    assert get(rx.status + "/other")[0] == 404
    out, err = rx.stop()
    assert rx.proc.returncode == 0 and "Traceback" not in err
    assert "27 frames: 15 landed, 8 invalid, 4 refused" in out, out  # the same counts as the summary
    with pytest.raises(OSError):
        urllib.request.urlopen(rx.status + "/healthz", timeout=2)  # the status port closes with the receiver


def test_health_is_503_until_it_listens(tmp_path, registry):
    rx = Receiver(tmp_path, devices=DeviceRegistry(str(registry)))
    ok, body = rx.health()
    assert not ok and body["status"] == "starting" and body["listening"] is False
    rx.metrics.write_failing, rx.phase = True, "listening"
    ok, body = rx.health()
    assert not ok and body["status"] == "failing_writes"
    assert rx.registry() is not Receiver(tmp_path, devices=DeviceRegistry(str(registry))).registry()


def test_tls_for_devices_and_the_status_port(tmp_path, registry, self_signed):
    rx = Running(tmp_path, "--devices", str(registry), "--tls-cert", str(self_signed.cert), "--tls-key", str(self_signed.key))
    assert rx.status.startswith("https://127.0.0.1:") and ", TLS, landing" in rx.listening_line
    ctx = self_signed.client_context()
    frame = build_frame("QN=20240101000000001;ST=22;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
                        "CP=&&DataTime=20240101000000;a34004-Rtd=12.5,a34004-Flag=N&&").encode()
    with socket.create_connection(("127.0.0.1", rx.port), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        assert s.version() in ("TLSv1.2", "TLSv1.3")
        s.sendall(frame)
        (ack,) = read_acks(s, 1)
        assert (ack.qn, ack.cn) == ("20240101000000001", "9014")
    with socket.create_connection(("127.0.0.1", rx.port), timeout=10) as plain:  # a device speaking plain TCP
        plain.sendall(frame)
        try:
            reply = plain.recv(4096)
        except ConnectionError:
            reply = b""
        assert b"CN=9014" not in reply  # no answer: the handshake failed and the connection closed
    status, _, body = get(rx.status + "/healthz", ctx)
    assert status == 200 and json.loads(body)["tls"] is True
    got = wait_for(rx, "smartmon_hj212_acks_sent_total", 1, ctx)
    assert got[("smartmon_hj212_frames_received_total", ())] == 1
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        get(rx.status + "/healthz", ssl.create_default_context())
    out, err = rx.stop()
    assert rx.proc.returncode == 0 and "Traceback" not in err, err
    assert "1 landed" in out


def test_a_taken_metrics_port_stops_the_receiver_before_it_takes_the_landing_zone(tmp_path, registry):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "jobs.bronze.hj212_receiver", "--port", "0", "--landing", str(tmp_path),
                               "--devices", str(registry), "--metrics-port", str(port)],
                              capture_output=True, text=True, timeout=30, cwd=REPO)
    assert done.returncode == 1 and f"cannot serve health and metrics on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "_hj212_receiver").exists()
