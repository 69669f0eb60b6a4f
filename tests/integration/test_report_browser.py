"""A consultation report opens in a real headless browser (Debian's chromium): every image loads,
the page has no console error, no uncaught exception and no failed request, and its screenshot
is not blank.

The browser is driven over the DevTools protocol on --remote-debugging-pipe (file descriptors 3
and 4, NUL-separated JSON), so the check needs nothing beyond the standard library: no
websocket client, no Selenium, no network.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from smartmon.config import REPO_ROOT
from smartmon.report import build_report
from tests.unit.test_report import ADMIN, DAY, make_lake

pytestmark = pytest.mark.heavy
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
DEMO_LAKE = REPO_ROOT / "lake"


class DevTools:
    """Minimal DevTools client over chromium's debugging pipe; keeps every event it sees."""

    def __init__(self, exe: str, profile: Path) -> None:
        to_browser_r, self._w = os.pipe()
        self._r, from_browser_w = os.pipe()

        def wire_fds() -> None:  # chromium reads commands on fd 3 and writes replies on fd 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=wire_fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60) -> dict:
        self._id += 1
        msg: dict = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        reply = self.wait(lambda m, i=self._id: m.get("id") == i, timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait(self, match, timeout: float = 60) -> dict:
        end = time.monotonic() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                m = json.loads(raw)
                if "method" in m:
                    self.events.append(m)
                if match(m):
                    return m
            left = end - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise EOFError(f"chromium closed the pipe (exit {self.proc.poll()})")
            self._buf += chunk

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
            self.proc.wait(10)
        except (OSError, RuntimeError, TimeoutError, EOFError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(10)
        finally:
            os.close(self._w)
            os.close(self._r)


def problems(events: list[dict]) -> list[str]:
    """Console errors and assertions, uncaught exceptions, and error log entries (failed loads)."""
    out = []
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
        elif e["method"] == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append(f"exception: {d.get('text')} {d.get('exception', {}).get('description', '')}")
        elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
    return out


def open_in_browser(html: Path, shot: Path, profile: Path) -> tuple[list[str], dict]:
    """Load the page at 1280 x 2000, wait for it and its images, screenshot; returns the problems
    seen and what the page reported about itself."""
    b = DevTools(CHROMIUM, profile)  # type: ignore[arg-type]
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            b.call(f"{domain}.enable", session=s)
        b.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 2000, "deviceScaleFactor": 1,
                                                      "mobile": False}, session=s)
        b.call("Page.navigate", {"url": html.resolve().as_uri()}, session=s)
        b.wait(lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == s)
        page = b.call("Runtime.evaluate", {"expression": "JSON.stringify({images: document.images.length, "
                                           "loaded: Array.from(document.images).filter(i => i.complete && "
                                           "i.naturalWidth > 0).length, sections: document.querySelectorAll("
                                           "'section').length, title: document.title})", "returnByValue": True},
                      session=s)["result"]["value"]
        data = b.call("Page.captureScreenshot", {"format": "png"}, session=s)["data"]
        shot.write_bytes(base64.b64decode(data))
        try:  # let late events (a failed image, a deferred error) arrive
            b.wait(lambda m: False, timeout=0.5)
        except TimeoutError:
            pass
        return problems(b.events), json.loads(page)
    finally:
        b.close()


def assert_screenshot_not_blank(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as img:
        rgb = img.convert("RGB")
        assert rgb.size == (1280, 2000)
        colours = rgb.getcolors(maxcolors=1 << 22) or []
    top = max(n for n, _ in colours)
    assert len(colours) > 50, f"{path.name}: only {len(colours)} colours"
    assert top < 0.95 * 1280 * 2000, f"{path.name}: one colour covers {top / (1280 * 2000):.0%}"


def _reports(tmp: Path) -> list[Path]:
    lake = make_lake(tmp / "lake")
    out = [build_report(str(lake), "province", "130000", DAY, "day", tmp / "reports", admin_dir=ADMIN).html]
    if (DEMO_LAKE / "gold" / "aqi_daily" / "_delta_log").is_dir():  # the demo lake of `make demo`, when built
        out.append(build_report(str(DEMO_LAKE), "national", "000000", date(2019, 1, 15), "day", tmp / "reports").html)
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)")
def test_report_opens_in_headless_chromium(tmp_path: Path):
    for i, html in enumerate(_reports(tmp_path)):
        shot = tmp_path / f"screenshot-{i}.png"
        seen, page = open_in_browser(html, shot, tmp_path / f"profile-{i}")
        assert seen == [], f"{html}: {seen}"
        assert page["images"] >= 3 and page["loaded"] == page["images"], page
        assert page["sections"] == 8 and "consultation report" in page["title"]
        assert_screenshot_not_blank(shot)
