"""Headless Chromium over the DevTools protocol: load a page of the book, report what a reader sees broken.

A deliberately small client (one WebSocket, JSON messages; see the Chrome DevTools Protocol reference,
chromedevtools.github.io/devtools-protocol) instead of Selenium or Playwright: Debian's ``chromium`` is the
only thing it needs, and it sees everything the test asks about: console errors and uncaught exceptions,
failed and non-loopback requests, every ``<img>``'s ``naturalWidth``, whether each Mermaid diagram became an
SVG (Material draws it in a shadow root; a Mermaid syntax error draws an "error" SVG instead), and a
full-page screenshot. Each page gets a fresh tab so events belong to exactly one page.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.sync.client import ClientConnection, connect

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",  # no update checks, no safe-browsing lists: loopback traffic only
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",  # small /dev/shm in containers
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",  # Chromium picks a free port and writes it to DevToolsActivePort
)
WIDTH, HEIGHT = 1280, 900
MAX_SCREENSHOT_HEIGHT = 12_000
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

# Runs before the page's own scripts: counts the diagrams the HTML holds before Material starts drawing them
# (Material then swaps each <pre class="mermaid"> for a <div class="mermaid"> with a closed shadow root).
# A diagram Mermaid cannot parse is never swapped: its render promise rejects, which we count as settled too.
_COUNT_DIAGRAMS_JS = """
window.__bookRejections = 0;
window.addEventListener("unhandledrejection", () => { window.__bookRejections += 1; });
document.addEventListener("DOMContentLoaded", () => {
  window.__bookDiagrams = document.querySelectorAll("pre.mermaid").length;
}, {once: true});
"""
# Settled: loaded, every image finished, every diagram swapped in or failed.
_SETTLED_JS = """
(() => document.readyState === "complete"
  && [...document.images].every(i => i.complete)
  && document.querySelectorAll("div.mermaid").length + window.__bookRejections
     >= (window.__bookDiagrams || 0))()
"""
_INSPECT_JS = """
(() => ({
  title: document.title,
  images: [...document.images].map(i => ({src: i.currentSrc || i.src, naturalWidth: i.naturalWidth})),
  diagrams: window.__bookDiagrams || 0,
}))()
"""


class BrowserError(Exception):
    """Chromium is missing, did not start, or did not answer in time."""


@dataclass
class PageReport:
    url: str
    title: str = ""
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    images: int = 0
    diagrams: int = 0
    broken_diagrams: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def problems(self) -> list[str]:
        return [
            *(f"console error: {e}" for e in self.console_errors),
            *(f"request failed: {r}" for r in self.failed_requests),
            *(f"request left loopback: {r}" for r in self.external_requests),
            *(f"image not loaded: {i}" for i in self.broken_images),
            *(f"diagram not rendered: {d}" for d in self.broken_diagrams),
        ]


def find_chromium() -> str:
    """``$CHROMIUM`` or the first Chromium on PATH; a clear error naming the Debian package otherwise."""
    for name in (os.environ.get("CHROMIUM"), *CANDIDATES):
        found = shutil.which(name) if name else None
        if found:
            return found
    raise BrowserError("Chromium is not installed: apt-get install chromium (or set CHROMIUM=/path/to/it)")


class DevTools:
    """Request/response over one WebSocket; events that arrive meanwhile are kept for :meth:`events`."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def _receive(self, deadline: float, what: str) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BrowserError(f"Chromium did not answer {what} in time")
        try:
            message: dict[str, Any] = json.loads(self._ws.recv(timeout=remaining))
        except TimeoutError as exc:
            raise BrowserError(f"Chromium did not answer {what} in time") from exc
        return message

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: str | None = None,
        timeout: float = 15,
    ) -> dict[str, Any]:
        self._next_id += 1
        request: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        self._ws.send(json.dumps(request))
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline, method)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._events.append(message)

    def wait_for(self, method: str, session: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method and e.get("sessionId") == session for e in self._events):
            self._events.append(self._receive(deadline, f"{method} (page load)"))

    def events(self, session: str) -> list[dict[str, Any]]:
        return [e for e in self._events if e.get("sessionId") == session]


class Browser:
    def __init__(self, devtools: DevTools) -> None:
        self.devtools = devtools

    def _evaluate(self, expression: str, session: str) -> Any:
        result = self.devtools.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"page script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def visit(self, url: str, screenshot: Path | None = None, timeout: float = 30) -> PageReport:
        """Open ``url`` in a new tab, wait until it has settled, inspect it, maybe screenshot it, close it."""
        call = self.devtools.call
        target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                call(f"{domain}.enable", session=session)
            call("Page.addScriptToEvaluateOnNewDocument", {"source": _COUNT_DIAGRAMS_JS}, session=session)
            call(
                "Emulation.setDeviceMetricsOverride",
                {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            navigated = call("Page.navigate", {"url": url}, session=session)
            if navigated.get("errorText"):
                raise BrowserError(f"{url}: {navigated['errorText']}")
            self.devtools.wait_for("Page.loadEventFired", session, timeout)
            deadline = time.monotonic() + timeout
            while not self._evaluate(_SETTLED_JS, session) and time.monotonic() < deadline:
                time.sleep(0.1)
            report = self._inspect(url, session)
            if screenshot is not None:
                report.screenshot = self._screenshot(session, screenshot)
            _collect_events(report, self.devtools.events(session))
        finally:
            call("Target.closeTarget", {"targetId": target})
        return report

    def _inspect(self, url: str, session: str) -> PageReport:
        seen = self._evaluate(_INSPECT_JS, session)
        report = PageReport(
            url=url, title=seen["title"], images=len(seen["images"]), diagrams=seen["diagrams"]
        )
        report.broken_images = [i["src"] for i in seen["images"] if not i["naturalWidth"]]
        drawn = self._drawn_diagrams(session)
        report.broken_diagrams = [f"diagram {i + 1}: {why}" for i, why in enumerate(drawn) if why]
        missing = report.diagrams - len(drawn)
        if missing > 0:
            report.broken_diagrams.append(f"{missing} of {report.diagrams} diagram(s) never drawn")
        return report

    def _drawn_diagrams(self, session: str) -> list[str]:
        """For each ``div.mermaid``: "" if its (closed) shadow root holds a normal SVG, else what is wrong."""
        root = self.devtools.call("DOM.getDocument", {"depth": -1, "pierce": True}, session=session)["root"]
        found = []
        for node in _walk(root):
            classes = _attributes(node).get("class", "").split()
            if node.get("nodeName") == "DIV" and "mermaid" in classes:
                svgs = [
                    n
                    for shadow in node.get("shadowRoots", [])
                    for n in _walk(shadow)
                    if n["nodeName"] == "svg"
                ]
                if not svgs:
                    found.append("no SVG")
                elif _attributes(svgs[0]).get("aria-roledescription") == "error":
                    found.append("Mermaid drew its syntax-error graphic")
                else:
                    found.append("")
        return found

    def _screenshot(self, session: str, path: Path) -> Path:
        size = self.devtools.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
        clip = {
            "x": 0,
            "y": 0,
            "width": WIDTH,
            "height": min(size["height"], MAX_SCREENSHOT_HEIGHT),
            "scale": 1,
        }
        shot = self.devtools.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
            session=session,
            timeout=60,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in (*node.get("children", ()), *node.get("shadowRoots", ()), node.get("contentDocument")):
        if child:
            yield from _walk(child)


def _attributes(node: dict[str, Any]) -> dict[str, str]:
    flat = node.get("attributes", [])
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _collect_events(report: PageReport, events: list[dict[str, Any]]) -> None:
    urls: dict[str, str] = {}
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            report.console_errors.append(details.get("exception", {}).get("description") or details["text"])
        elif method == "Runtime.consoleAPICalled" and params["type"] in {"error", "assert"}:
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            report.console_errors.append(text)
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            report.console_errors.append(f"{entry['text']} ({entry.get('url', '')})")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            urls[params["requestId"]] = url
            parts = urlsplit(url)
            if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in LOCAL_HOSTS:
                report.external_requests.append(url)
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            report.failed_requests.append(f"{urls.get(params['requestId'], '?')}: {params['errorText']}")


def _devtools_address(profile: Path, process: subprocess.Popen[bytes], timeout: float) -> str:
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (profile / "chromium.log").read_text(errors="replace")[-800:]
            raise BrowserError(f"Chromium exited with code {process.returncode} at start: {log}")
        lines = active.read_text().split() if active.is_file() else []
        if len(lines) == 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    raise BrowserError(f"Chromium did not open its DevTools port within {timeout:.0f} s")


@contextmanager
def chromium(start_timeout: float = 30) -> Iterator[Browser]:
    """A headless Chromium with a fresh profile in a temp folder; stopped and removed on exit."""
    executable = find_chromium()
    with tempfile.TemporaryDirectory(prefix="answers-chromium-") as scratch:
        profile = Path(scratch)
        with (profile / "chromium.log").open("wb") as log:
            process = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            address = _devtools_address(profile, process, start_timeout)
            with connect(address, proxy=None, max_size=None, open_timeout=start_timeout) as ws:
                yield Browser(DevTools(ws))
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Chromium and its renderers: its own process group, started by us (start_new_session)."""
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
        return
