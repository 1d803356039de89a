"""The relay's small HTTP side: ``/healthz`` (liveness) and ``/metrics`` (Prometheus), on a thread.

The relay is a loop, not a web app, so the standard library's threading HTTP server is enough. Liveness means
"the loop is turning": every claim attempt and every backoff pause beats the heart, so a Redis or PostgreSQL
outage (retried with backoff) keeps the relay live, while a loop stuck for ``stale_s`` answers 503.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


class Heartbeat:
    def __init__(self, stale_s: float) -> None:
        self.stale_s = stale_s
        self._last = time.monotonic()

    def beat(self) -> None:
        self._last = time.monotonic()

    @property
    def alive(self) -> bool:
        return time.monotonic() - self._last < self.stale_s


def serve(host: str, port: int, heartbeat: Heartbeat) -> ThreadingHTTPServer:
    """Start serving in a daemon thread; the caller ``shutdown()``s it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                ok = heartbeat.alive
                self._send(200 if ok else 503, b'{"status":"ok"}' if ok else b'{"status":"stuck"}',
                           "application/json")  # fmt: skip
            elif self.path == "/metrics":
                self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
            else:
                self._send(
                    404, b'{"error":{"code":"not_found","message":"no such route"}}', "application/json"
                )

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
            """Silent: probes every few seconds would drown the relay's own log lines."""

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="relay-http", daemon=True).start()
    return server
