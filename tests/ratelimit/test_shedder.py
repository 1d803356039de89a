"""The load shedder: bounded in-flight requests, and non-critical routes shed before critical ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from ratelimit.routes import RouteMatch
from ratelimit.shedder import CRITICAL, LoadShedder, LoadSheddingMiddleware

pytestmark = pytest.mark.unit


def shed_total(route_class: str) -> float:
    return REGISTRY.get_sample_value("loadshedder_shed_total", {"route_class": route_class}) or 0.0


def test_each_class_may_fill_only_its_share_of_the_bound() -> None:
    shedder = LoadShedder(10, {"critical": 1.0, "default": 0.8, "batch": 0.5})
    assert [shedder.bound(c) for c in ("critical", "default", "batch")] == [10, 8, 5]
    assert LoadShedder(1).bound("default") == 1  # tiny bounds still admit something


def test_non_critical_requests_are_refused_first_and_critical_ones_use_the_reserve() -> None:
    shedder = LoadShedder(10)
    admitted_default = sum(shedder.try_acquire("default") for _ in range(20))
    admitted_critical = sum(shedder.try_acquire("critical") for _ in range(20))
    assert (admitted_default, admitted_critical) == (8, 2)
    assert shedder.in_flight == 10
    shedder.release()
    assert not shedder.try_acquire("default")  # 9 in flight: still above the default share
    assert shedder.try_acquire("critical")


def test_release_without_acquire_is_a_bug_not_a_negative_count() -> None:
    with pytest.raises(RuntimeError):
        LoadShedder(1).release()


def test_nonsense_configurations_are_refused() -> None:
    with pytest.raises(ValueError, match="max_in_flight"):
        LoadShedder(0)
    with pytest.raises(ValueError, match="share"):
        LoadShedder(5, {"default": 1.5})
    with pytest.raises(ValueError, match="without a share"):
        LoadSheddingMiddleware(FastAPI(), LoadShedder(5), classes=[(RouteMatch(prefix="/x"), "vip")])


class Gate:
    """Holds every admitted request inside the handler until released, so the test controls concurrency."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.inside = 0


def gated_app(shedder: LoadShedder, gate: Gate) -> FastAPI:
    app = FastAPI()

    async def hold() -> dict[str, bool]:
        gate.inside += 1
        try:
            await gate.open.wait()
        finally:
            gate.inside -= 1
        return {"ok": True}

    app.add_api_route("/browse", hold)
    app.add_api_route("/play", hold, methods=["POST"])
    app.add_api_route("/healthz", hold)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("handler bug")

    app.add_middleware(
        LoadSheddingMiddleware,
        shedder=shedder,
        classes=[(RouteMatch(route="/play"), CRITICAL)],
        exempt=[RouteMatch(route="/healthz")],
    )
    return app


@pytest.fixture
async def gated() -> AsyncIterator[tuple[httpx.AsyncClient, LoadShedder, Gate]]:
    shedder, gate = LoadShedder(10), Gate()
    transport = httpx.ASGITransport(app=gated_app(shedder, gate), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, shedder, gate


async def wait_for(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while True:
            if condition():
                return
            await asyncio.sleep(0.001)


async def wait_until_inside(gate: Gate, count: int) -> None:
    await wait_for(lambda: gate.inside >= count)


async def test_under_concurrency_non_critical_routes_are_shed_first(
    gated: tuple[httpx.AsyncClient, LoadShedder, Gate],
) -> None:
    """50 concurrent browse requests get 8 slots; critical requests still find the 2 reserved ones."""
    client, shedder, gate = gated
    before = shed_total("default"), shed_total(CRITICAL)
    browsing = [asyncio.create_task(client.get("/browse")) for _ in range(50)]
    await wait_for(lambda: gate.inside == 8 and shed_total("default") == before[0] + 42)
    playing = [asyncio.create_task(client.post("/play")) for _ in range(5)]
    await wait_for(lambda: gate.inside == 10 and shed_total(CRITICAL) == before[1] + 3)
    assert shedder.in_flight == 10
    gate.open.set()
    browse = await asyncio.gather(*browsing)
    play = await asyncio.gather(*playing)

    assert sorted(r.status_code for r in browse) == [200] * 8 + [503] * 42
    assert sorted(r.status_code for r in play) == [200] * 2 + [503] * 3
    refused = next(r for r in browse if r.status_code == 503)
    assert refused.json()["error"]["code"] == "overloaded"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3
    assert (shed_total("default"), shed_total(CRITICAL)) == (before[0] + 42, before[1] + 3)
    assert shedder.in_flight == 0


async def test_exempt_routes_are_neither_counted_nor_shed(
    gated: tuple[httpx.AsyncClient, LoadShedder, Gate],
) -> None:
    """A liveness probe that fails under load gets the instance killed, making the spike worse."""
    client, shedder, gate = gated
    busy = [asyncio.create_task(client.post("/play")) for _ in range(10)]
    await wait_until_inside(gate, 10)
    health = asyncio.create_task(client.get("/healthz"))
    await wait_until_inside(gate, 11)
    assert shedder.in_flight == 10
    gate.open.set()
    assert (await health).status_code == 200
    assert all(r.status_code == 200 for r in await asyncio.gather(*busy))


async def test_a_failing_handler_still_gives_its_slot_back(
    gated: tuple[httpx.AsyncClient, LoadShedder, Gate],
) -> None:
    client, shedder, _ = gated
    for _ in range(20):
        assert (await client.get("/boom")).status_code == 500
    assert shedder.in_flight == 0


async def test_the_in_flight_gauge_follows_admitted_requests(
    gated: tuple[httpx.AsyncClient, LoadShedder, Gate],
) -> None:
    client, _, gate = gated
    base = REGISTRY.get_sample_value("loadshedder_in_flight") or 0.0
    requests = [asyncio.create_task(client.get("/browse")) for _ in range(3)]
    await wait_until_inside(gate, 3)
    assert REGISTRY.get_sample_value("loadshedder_in_flight") == base + 3
    gate.open.set()
    await asyncio.gather(*requests)
    assert REGISTRY.get_sample_value("loadshedder_in_flight") == base
