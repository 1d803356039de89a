"""A fault-injecting HTTP proxy for system tests: sits between the gateway and a real service.

The test switches its behaviour while requests flow: ``delay_s`` holds every request before forwarding it (a
slow service), ``fail_ratio`` answers that share of requests with a 503 of its own without forwarding (a flaky
service), and ``calls`` counts every request that reached it (what "the downstream" saw, retries included).
It speaks HTTP rather than raw TCP because the gateway pools keep-alive connections: only an HTTP-aware proxy
can count requests, and fail one request without breaking the connection the next one reuses.

It runs uvicorn on a loopback port in a thread with its own event loop, so both sync and async tests can use
it and its state outlives any one test's event loop. Bodies pass through undecoded (``aiter_raw``), so gzip
and ``Content-Encoding`` reach the gateway exactly as the service sent them.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import free_port

START_TIMEOUT_S = 10.0
# hop-by-hop (RFC 9110 section 7.6.1) plus what the next hop recomputes
_DROPPED = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"}
)
_DROPPED_BACK = _DROPPED | {"content-length", "date", "server"}


@dataclass
class FaultyProxy:
    """``http://127.0.0.1:<port>`` forwarding to ``upstream``, with knobs the test turns."""

    upstream: str
    delay_s: float = 0.0
    fail_ratio: float = 0.0  # share of requests answered 503 by the proxy itself, never forwarded
    slow_calls: int = 0  # > 0: only that many next requests are delayed (by ``delay_s``)
    delay_after_forward: bool = False  # hold the *answer*: the service has acted, its response comes late
    port: int = field(default_factory=free_port)
    rng: random.Random = field(default_factory=lambda: random.Random(9))
    _calls: int = 0
    _failed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def calls(self) -> int:
        """Requests that reached the proxy (forwarded or failed by it) since the last ``reset()``."""
        with self._lock:
            return self._calls

    @property
    def failed(self) -> int:
        with self._lock:
            return self._failed

    def reset(self) -> None:
        with self._lock:
            self._calls = self._failed = self.slow_calls = 0
            self.delay_s = self.fail_ratio = 0.0

    def _count(self) -> tuple[bool, float]:
        """Count one call; whether it should fail, and how long to hold it."""
        with self._lock:
            self._calls += 1
            fail = self.fail_ratio > 0 and self.rng.random() < self.fail_ratio
            self._failed += fail
            delay = self.delay_s
            if self.slow_calls > 0:
                self.slow_calls -= 1
                if self.slow_calls == 0:
                    self.delay_s = 0.0
            return fail, delay

    def _app(self) -> Starlette:
        client: httpx.AsyncClient | None = None

        @asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            nonlocal client
            client = httpx.AsyncClient(base_url=self.upstream, trust_env=False, timeout=30.0)
            try:
                yield
            finally:
                await client.aclose()

        async def forward(request: Request) -> Response:
            fail, delay = self._count()
            if delay and not self.delay_after_forward:
                await asyncio.sleep(delay)
            if fail:
                error = {"code": "injected_fault", "message": "failed by the test proxy", "request_id": "-"}
                return JSONResponse({"error": error}, status_code=503)
            assert client is not None  # the lifespan made it
            headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROPPED]
            upstream = client.build_request(
                request.method,
                request.url.path,
                params=request.url.query,
                headers=headers,
                content=await request.body(),
            )
            response = await client.send(upstream, stream=True)
            try:
                body = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
            if delay and self.delay_after_forward:
                await asyncio.sleep(delay)
            back = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED_BACK]
            out = Response(content=body, status_code=response.status_code)
            out.raw_headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in back)
            return out

        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", forward, methods=methods)], lifespan=lifespan)

    def start(self) -> None:
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name=f"faulty-proxy-{self.port}", daemon=True
        )
        self._thread.start()
        stop_at = threading.Event()
        for _ in range(int(START_TIMEOUT_S / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            stop_at.wait(0.01)
        if not self._server.started:
            raise RuntimeError(f"the faulty proxy did not start on port {self.port}")

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self.delay_s = 0.0  # let held requests finish so the graceful shutdown is quick
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = self._thread = None
