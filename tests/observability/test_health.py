"""Liveness never depends on dependencies; readiness is 503 only when a required dependency is down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from observability import DependencyCheck, instrument
from observability.health import CheckResult, readiness, run_checks

MakeClient = Callable[[FastAPI], httpx.AsyncClient]


async def ok() -> bool:
    return True


async def refused() -> None:
    raise ConnectionRefusedError("connection refused")


async def says_no() -> bool:
    return False


async def hangs() -> None:
    await asyncio.sleep(30)


def result(name: str, *, required: bool, ok: bool) -> CheckResult:
    return CheckResult(name, required, ok, 1.0, None if ok else "down")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("results", "status_code", "overall"),
    [
        ([], 200, "ok"),
        ([result("db", required=True, ok=True), result("cache", required=False, ok=True)], 200, "ok"),
        ([result("db", required=True, ok=True), result("cache", required=False, ok=False)], 200, "degraded"),
        ([result("db", required=True, ok=False), result("cache", required=False, ok=True)], 503, "down"),
        ([result("db", required=True, ok=False), result("cache", required=False, ok=False)], 503, "down"),
    ],
)
def test_only_a_required_failure_makes_the_service_unready(
    results: list[CheckResult], status_code: int, overall: str
) -> None:
    assert readiness(results)[0] == status_code
    assert readiness(results)[1]["status"] == overall


@pytest.mark.unit
async def test_checks_run_concurrently_and_a_hanging_one_is_cut_at_its_timeout() -> None:
    checks = [DependencyCheck(f"slow{i}", hangs, timeout_s=0.3) for i in range(5)]
    started = time.perf_counter()
    results = await run_checks([*checks, DependencyCheck("fast", ok)])
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0  # not 5 x 0.3 s: they ran at once
    assert [r.ok for r in results] == [False] * 5 + [True]
    assert results[0].error == "no answer within 0.3s"


@pytest.mark.unit
async def test_a_check_that_raises_or_returns_false_has_failed_with_the_reason() -> None:
    raised, falsy = await run_checks([DependencyCheck("a", refused), DependencyCheck("b", says_no)])
    assert raised.error == "ConnectionRefusedError: connection refused"
    assert falsy.error == "check returned False"


@pytest.mark.unit
def test_duplicate_check_names_are_refused(service: str) -> None:
    with pytest.raises(ValueError, match="unique"):
        instrument(FastAPI(), service=service, checks=[DependencyCheck("db", ok), DependencyCheck("db", ok)])


@pytest.mark.integration
@pytest.mark.parametrize(
    ("db", "cache", "status_code", "overall"),
    [(ok, ok, 200, "ok"), (ok, refused, 200, "degraded"), (refused, ok, 503, "down")],
)
async def test_readyz_reports_each_dependency_and_healthz_stays_up(
    *, db: Callable[[], object], cache: Callable[[], object], status_code: int, overall: str,
    service: str, make_client: MakeClient,
) -> None:  # fmt: skip
    app = FastAPI()
    checks = [DependencyCheck("postgres", db), DependencyCheck("redis", cache, required=False)]  # type: ignore[arg-type]
    instrument(app, service=service, checks=checks, tracing=False)
    client = make_client(app)
    ready = await client.get("/readyz")
    assert ready.status_code == status_code
    body = ready.json()
    assert body["status"] == overall
    assert set(body["checks"]) == {"postgres", "redis"}
    assert body["checks"]["postgres"]["required"] is True
    assert body["checks"]["redis"]["required"] is False
    healthz = await client.get("/healthz")
    assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})
