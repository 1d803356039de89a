"""A fake downstream service on a real loopback port (uvicorn in the test's event loop), with failure knobs.

Real HTTP matters here: a stopped server refuses connections, a slow one holds the socket, exactly as a real
service would, so the gateway's timeouts, breaker and pool are exercised for real.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import free_port

POPULAR = [{"item_id": 3, "score": 9.0}, {"item_id": 1, "score": 7.0}]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeService:
    port: int = field(default_factory=free_port)
    delay_s: float = 0.0
    fail_ratio: float = 0.0  # share of calls answered with 503
    seen: list[Seen] = field(default_factory=list)
    effects: int = 0  # POSTs that "did something"
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.seen.append(Seen(request.method, request.url.path, dict(request.headers), body))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_ratio and self.rng.random() < self.fail_ratio:
            return JSONResponse({"error": {"code": "flaky", "message": "x", "request_id": "-"}}, 503)
        if request.url.path == "/popular":
            return JSONResponse({"items": POPULAR})
        if request.method == "POST":
            self.effects += 1
            return JSONResponse({"id": self.effects}, 201, headers={"location": f"/things/{self.effects}"})
        return JSONResponse({"path": request.url.path, "query": request.url.query})

    def app(self) -> Starlette:
        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=methods)])

    async def start(self) -> None:
        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.ensure_future(self._server.serve())
        while not self._server.started:
            if self._task.done():
                await self._task  # surfaces the start-up error
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None
