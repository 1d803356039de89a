"""Liveness and readiness, kept apart on purpose (DESIGN.md, "Conventions").

``/healthz`` (liveness) answers 200 as long as the process can serve HTTP: an orchestrator restarts the
process when it fails, so it must not depend on PostgreSQL or Redis (a database outage would otherwise restart
every pod and make things worse). ``/readyz`` (readiness) runs the dependency checks concurrently, each under
its own timeout: a failing *required* dependency answers 503 so the load balancer stops sending traffic; a
failing *optional* one (a cache) is reported as ``degraded`` with 200, because the service still works without
it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

CheckStatus = Literal["ok", "degraded", "down"]


@dataclass(frozen=True)
class DependencyCheck:
    """``check`` raises (or returns ``False``) when the dependency is unusable; e.g. ``redis.ping``."""

    name: str
    check: Callable[[], Awaitable[object]]
    required: bool = True
    timeout_s: float = 1.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    required: bool
    ok: bool
    latency_ms: float
    error: str | None = None

    @property
    def status(self) -> CheckStatus:
        if self.ok:
            return "ok"
        return "down" if self.required else "degraded"


async def run_check(check: DependencyCheck) -> CheckResult:
    started = time.perf_counter()
    error: str | None = None
    try:
        async with asyncio.timeout(check.timeout_s):
            outcome = await check.check()
        if outcome is False:
            error = "check returned False"
    except TimeoutError:
        error = f"no answer within {check.timeout_s:g}s"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    return CheckResult(check.name, check.required, error is None, latency_ms, error)


async def run_checks(checks: Sequence[DependencyCheck]) -> list[CheckResult]:
    """All at once: readiness takes as long as the slowest check, not the sum of them."""
    return list(await asyncio.gather(*(run_check(check) for check in checks)))


def readiness(results: Sequence[CheckResult]) -> tuple[int, dict[str, Any]]:
    """HTTP status and body for a set of results: 503 only when a required dependency is down."""
    if any(r.status == "down" for r in results):
        status_code, overall = 503, "down"
    elif any(r.status == "degraded" for r in results):
        status_code, overall = 200, "degraded"
    else:
        status_code, overall = 200, "ok"
    checks: dict[str, Any] = {}
    for r in results:
        checks[r.name] = {"status": r.status, "required": r.required, "latency_ms": r.latency_ms}
        if r.error is not None:
            checks[r.name]["error"] = r.error
    return status_code, {"status": overall, "checks": checks}


def add_health_routes(app: FastAPI, checks: Sequence[DependencyCheck] = ()) -> None:
    names = [check.name for check in checks]
    if len(set(names)) != len(names):
        raise ValueError(f"dependency check names must be unique: {names}")
    frozen_checks = tuple(checks)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        status_code, body = readiness(await run_checks(frozen_checks))
        return JSONResponse(body, status_code=status_code)

    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/readyz", readyz, methods=["GET"], include_in_schema=False)
