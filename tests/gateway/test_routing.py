"""Routing and resilience against real HTTP downstreams on loopback: forwarding, breaker, deadline, budget,
idempotent replay and degradation (issue 8, Q9)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import add_user, login, running, sqlite_settings
from tests.gateway.fakes import POPULAR, FakeService

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING_TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
async def catalog() -> AsyncIterator[FakeService]:
    fake = FakeService()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def recommender() -> AsyncIterator[FakeService]:
    fake = FakeService()
    await fake.start()
    yield fake
    await fake.stop()


async def gateway_for(
    tmp_path: Path, key: SigningKey, catalog: FakeService, recommender: FakeService, **overrides: Any
) -> tuple[FastAPI, Any]:
    settings = sqlite_settings(
        tmp_path, key, catalog_url=catalog.url, recommender_url=recommender.url, **overrides
    )
    app = create_app(settings)
    return app, running(app)


async def bearer(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    await add_user(app, "ada")
    token = (await login(client, "ada")).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def caller_id(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    """The token's subject as the gateway reads it: the one id a caller may use in its recommender paths."""
    me = await client.get("/users/me", headers=auth)
    assert me.status_code == 200, me.text
    return int(me.json()["id"])


@pytest.mark.integration
async def test_the_token_request_id_and_trace_context_reach_the_downstream(
    tmp_path: Path, signing_key: SigningKey, catalog: FakeService, recommender: FakeService
) -> None:
    """One trace spans gateway and service: the downstream's traceparent carries the caller's trace id."""
    app, run = await gateway_for(tmp_path, signing_key, catalog, recommender)
    async with run as client:
        auth = await bearer(app, client)
        headers = {
            **auth,
            "X-Request-ID": "req-42",
            "traceparent": INCOMING_TRACEPARENT,
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "secret",
            "Cookie": "session=1",
        }
        response = await client.get("/catalog/v2/tracks?limit=5&cursor=a", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"path": "/v2/tracks", "query": "limit=5&cursor=a"}
    seen = catalog.seen[-1].headers
    assert seen["authorization"] == auth["Authorization"]
    assert seen["x-request-id"] == "req-42"
    version, trace_id, parent_span, _flags = seen["traceparent"].split("-")
    assert (version, trace_id) == ("00", TRACE_ID)
    assert parent_span != "00f067aa0ba902b7"  # the gateway's own span is the parent, not the caller's
    assert "x-hop" not in seen
    assert "cookie" not in seen
    assert 0 < int(seen["x-request-deadline"]) <= 3000


@pytest.mark.integration
async def test_calls_without_a_token_or_to_internal_endpoints_are_refused(
    tmp_path: Path, signing_key: SigningKey, catalog: FakeService, recommender: FakeService
) -> None:
    app, run = await gateway_for(tmp_path, signing_key, catalog, recommender)
    async with run as client:
        assert (await client.get("/catalog/v2/tracks")).status_code == 401
        auth = await bearer(app, client)
        for path in (
            "/catalog/metrics",
            "/catalog/dev/token",
            "/recommendations/readyz",
            "/catalog/a/../metrics",
        ):
            response = await client.get(path, headers=auth)
            assert response.status_code == 404, path
    assert catalog.seen == []
    assert [seen.path for seen in recommender.seen] in ([], ["/popular"])  # only the start-up warm-up


@pytest.mark.integration
async def test_a_stopped_downstream_opens_the_breaker_then_it_half_opens_and_recovers(
    tmp_path: Path, signing_key: SigningKey, catalog: FakeService, recommender: FakeService
) -> None:
    """3 failures open the breaker; then 503 at once, no call; after the cool-down a probe closes it."""
    app, run = await gateway_for(
        tmp_path,
        signing_key,
        catalog,
        recommender,
        breaker_failures=3,
        breaker_reset_s=0.5,
        retry_max_attempts=1,
    )
    async with run as client:
        auth = await bearer(app, client)
        await catalog.stop()
        for _ in range(3):
            response = await client.get("/catalog/v2/tracks", headers=auth)
            assert response.status_code == 502
            assert response.json()["error"]["code"] == "bad_gateway"
        started = time.perf_counter()
        response = await client.get("/catalog/v2/tracks", headers=auth)
        fail_fast_s = time.perf_counter() - started
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "downstream_unavailable"
        assert response.json()["error"]["request_id"]
        assert response.headers["retry-after"] == "1"
        assert fail_fast_s < 0.1
        await catalog.start()
        await asyncio.sleep(0.55)
        assert (await client.get("/catalog/v2/tracks", headers=auth)).status_code == 200
        assert (await client.get("/catalog/v2/tracks", headers=auth)).status_code == 200
        metrics = (await client.get("/metrics")).text
    assert 'gateway_breaker_state{downstream="catalog"} 0.0' in metrics
    assert 'gateway_breaker_transitions_total{downstream="catalog",to="open"}' in metrics


@pytest.mark.integration
async def test_a_downstream_slowed_by_2s_still_gets_an_answer_within_the_deadline(
    tmp_path: Path, signing_key: SigningKey, catalog: FakeService, recommender: FakeService
) -> None:
    app, run = await gateway_for(tmp_path, signing_key, catalog, recommender)
    async with run as client:
        auth = await bearer(app, client)
        catalog.delay_s = 2.0
        started = time.perf_counter()
        response = await client.get("/catalog/v2/tracks", headers={**auth, "X-Request-Deadline": "600"})
        elapsed = time.perf_counter() - started
        catalog.delay_s = 0.0
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "downstream_timeout"
    assert elapsed < 0.6 + 0.3  # the deadline plus scheduling slack, far under the 2 s the service takes


@pytest.mark.integration
async def test_a_flaky_downstream_sees_no_more_calls_than_the_retry_budget_allows(
    tmp_path: Path, signing_key: SigningKey, catalog: FakeService, recommender: FakeService
) -> None:
    """Half the calls fail; retries stay within reserve (3) + 10% of 200 requests."""
    requests = 200
    app, run = await gateway_for(
        tmp_path,
        signing_key,
        catalog,
        recommender,
        breaker_failures=10_000,
        retry_backoff_base_s=0.001,
        retry_budget_ratio=0.1,
        retry_budget_reserve=3,
    )
    async with run as client:
        auth = await bearer(app, client)
        catalog.fail_ratio = 0.5
        statuses = [
            (await client.get("/catalog/v2/tracks", headers=auth)).status_code for _ in range(requests)
        ]
    assert set(statuses) <= {200, 503}
    extra_calls = len(catalog.seen) - requests
    assert 0 < extra_calls <= 3 + 0.1 * requests


@pytest.mark.integration
async def test_a_replayed_post_with_the_same_idempotency_key_has_one_side_effect(
    tmp_path: Path, signing_key: SigningKey, catalog: FakeService, recommender: FakeService
) -> None:
    app, run = await gateway_for(tmp_path, signing_key, catalog, recommender)
    async with run as client:
        auth = await bearer(app, client)
        headers = {**auth, "Idempotency-Key": "pl-1"}
        first = await client.post("/catalog/v2/playlists", headers=headers, json={"name": "a"})
        again = await client.post("/catalog/v2/playlists", headers=headers, json={"name": "a"})
        other = await client.post("/catalog/v2/playlists", headers=headers, json={"name": "b"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert catalog.effects == 1


@pytest.mark.integration
async def test_a_concurrent_duplicate_waits_for_the_first_and_gets_its_answer(
    tmp_path: Path, signing_key: SigningKey, catalog: FakeService, recommender: FakeService
) -> None:
    app, run = await gateway_for(tmp_path, signing_key, catalog, recommender)
    async with run as client:
        auth = await bearer(app, client)
        catalog.delay_s = 0.3
        headers = {**auth, "Idempotency-Key": "pl-2"}
        one, two = await asyncio.gather(
            client.post("/catalog/v2/playlists", headers=headers, json={"name": "a"}),
            client.post("/catalog/v2/playlists", headers=headers, json={"name": "a"}),
        )
        catalog.delay_s = 0.0
    assert one.status_code == two.status_code == 201
    assert one.json() == two.json()
    assert catalog.effects == 1


@pytest.mark.integration
async def test_recommendations_degrade_to_popular_tracks_when_the_recommender_is_down(
    tmp_path: Path, signing_key: SigningKey, catalog: FakeService, recommender: FakeService
) -> None:
    app, run = await gateway_for(tmp_path, signing_key, catalog, recommender, retry_max_attempts=1)
    async with run as client:
        auth = await bearer(app, client)
        own = await caller_id(client, auth)  # another user's id would be refused (OWASP API1 tests)
        normal = await client.get(f"/recommendations/users/{own}/recommendations?k=2", headers=auth)
        assert normal.status_code == 200
        assert "x-degraded" not in normal.headers
        for _ in range(50):  # the fallback list is fetched in the background at start-up
            if app.state.routing.fallback.last is not None:
                break
            await asyncio.sleep(0.02)
        await recommender.stop()
        degraded = await client.get(f"/recommendations/users/{own}/recommendations?k=2", headers=auth)
    assert degraded.status_code == 200
    assert degraded.headers["x-degraded"] == "popular"
    assert degraded.json() == {
        "user_id": str(own),  # a string, as in the recommender's own answer
        "model_version": "unknown",  # the fake's popular list names no model
        "items": POPULAR,
        "degraded": True,
        "reason": "bad_gateway",
        "source": "popular",
    }


@pytest.mark.integration
async def test_with_no_popular_list_ever_fetched_the_degraded_answer_is_empty_but_not_a_5xx(
    tmp_path: Path, signing_key: SigningKey, catalog: FakeService, recommender: FakeService
) -> None:
    await recommender.stop()
    app, run = await gateway_for(tmp_path, signing_key, catalog, recommender, retry_max_attempts=1)
    async with run as client:
        auth = await bearer(app, client)
        own = await caller_id(client, auth)
        response = await client.get(f"/recommendations/users/{own}", headers=auth)
    assert response.status_code == 200
    assert response.json()["degraded"] is True
    assert response.json()["items"] == []
