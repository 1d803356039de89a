"""The gateway's resilience against a real catalog process: stopped, slowed by 2 s, flaky (issue 8, Q9).

Everything here is a real process on loopback: the catalog on PostgreSQL and Redis, the gateway in front of
it, and, where the test needs to shape the traffic, the fault-injecting proxy between them. The claims are
the gateway's documented contract: an open breaker answers 503 at once without calling the service, a slow
service costs the caller at most the request's deadline (504), and a flaky service receives at most
``requests + reserve + ratio * requests`` calls, whatever it does.
"""

from __future__ import annotations

import statistics
import time

import httpx
import pytest

from tests.support.faulty_proxy import FaultyProxy
from tests.system.conftest import GatewayFactory
from tests.system.processes import ServiceProcess
from tests.system.stack import sign_up_and_log_in

pytestmark = pytest.mark.integration

TRACKS = "/catalog/v2/tracks?limit=5"
DEADLINE_S = 1.5  # the gateway's budget per request in the slow-service tests: under the 2 s slowdown
SLACK_S = 0.5  # scheduling slack on a loaded 2-core machine, still far under the slowdown


def _client(gateway: ServiceProcess) -> httpx.Client:
    return httpx.Client(base_url=gateway.url, trust_env=False, timeout=10.0)


def _metric(text: str, prefix: str) -> float:
    """The sum of every sample whose line starts with ``prefix`` (name and some labels)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


def test_a_stopped_catalog_opens_the_breaker_which_fails_fast_then_half_opens_and_recovers(
    catalog: ServiceProcess, start_gateway: GatewayFactory
) -> None:
    """3 failed calls open the breaker; then 503 at once with no call sent; after 1 s a probe closes it."""
    gateway = start_gateway(breaker_failures="3", breaker_reset_s="1.0", retry_max_attempts="1")
    _, auth = sign_up_and_log_in(gateway.url)
    with _client(gateway) as client:
        assert client.get(TRACKS, headers=auth).status_code == 200
        catalog.stop()
        for _ in range(3):
            failed = client.get(TRACKS, headers=auth)
            assert failed.status_code == 502, failed.text
            assert failed.json()["error"]["code"] == "bad_gateway"
        before = client.get("/metrics").text
        fast = []
        for _ in range(20):
            started = time.perf_counter()
            response = client.get(TRACKS, headers=auth)
            fast.append(time.perf_counter() - started)
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "downstream_unavailable"
            assert response.headers["retry-after"] == "1"
        after = client.get("/metrics").text
        # no connect attempt, no timeout: the breaker answers (max: slack for a loaded CI machine)
        assert statistics.median(fast) < 0.05
        assert max(fast) < 0.5
        rejected = 'gateway_downstream_calls_total{downstream="catalog",outcome="breaker_open"}'
        assert _metric(after, rejected) - _metric(before, rejected) == 20
        assert 'gateway_breaker_state{downstream="catalog"} 2.0' in after  # open

        catalog.start()  # back on the same port
        time.sleep(1.05)  # the cool-down: the next call is the half-open probe
        assert client.get(TRACKS, headers=auth).status_code == 200
        assert client.get(TRACKS, headers=auth).status_code == 200
        metrics = client.get("/metrics").text
    assert 'gateway_breaker_state{downstream="catalog"} 0.0' in metrics  # closed again
    for state in ("open", "half_open", "closed"):
        assert (
            _metric(metrics, f'gateway_breaker_transitions_total{{downstream="catalog",to="{state}"}}') >= 1
        )


def test_a_catalog_slowed_by_2s_gets_the_caller_a_504_within_the_gateway_deadline(
    faulty_catalog: FaultyProxy, start_gateway: GatewayFactory
) -> None:
    """Deadline 1.5 s, each attempt capped at 1 s: a 504 after ~1.5 s, never after the 2 s slowdown."""
    gateway = start_gateway(
        catalog_url=faulty_catalog.url, request_deadline_s=str(DEADLINE_S), downstream_timeout_s="1.0"
    )
    _, auth = sign_up_and_log_in(gateway.url)
    with _client(gateway) as client:
        assert client.get(TRACKS, headers=auth).status_code == 200
        faulty_catalog.delay_s = 2.0
        started = time.perf_counter()
        response = client.get(TRACKS, headers=auth)
        elapsed = time.perf_counter() - started
        faulty_catalog.delay_s = 0.0
        assert response.status_code == 504
        assert response.json()["error"]["code"] == "downstream_timeout"
        assert response.json()["error"]["request_id"] == response.headers["x-request-id"]
        assert elapsed < DEADLINE_S + SLACK_S
        again = client.get(TRACKS, headers=auth)
    assert again.status_code == 200  # the service is fast again, and two timeouts did not open the breaker


def test_a_caller_deadline_shorter_than_the_slowdown_is_honoured(
    faulty_catalog: FaultyProxy, start_gateway: GatewayFactory
) -> None:
    """``X-Request-Deadline: 400`` against a 2 s slowdown: 504 after ~0.4 s, not after the gateway's 3 s."""
    gateway = start_gateway(catalog_url=faulty_catalog.url)
    _, auth = sign_up_and_log_in(gateway.url)
    faulty_catalog.delay_s = 2.0
    with _client(gateway) as client:
        started = time.perf_counter()
        response = client.get(TRACKS, headers={**auth, "X-Request-Deadline": "400"})
        elapsed = time.perf_counter() - started
    assert response.status_code == 504
    assert elapsed < 0.4 + SLACK_S


def test_a_flaky_catalog_sees_no_more_calls_than_the_retry_budget_allows(
    faulty_catalog: FaultyProxy, start_gateway: GatewayFactory
) -> None:
    """Half of all calls fail: the catalog sees at most requests + 3 + 10% of requests calls in total."""
    requests, reserve, ratio = 100, 3, 0.1
    gateway = start_gateway(
        catalog_url=faulty_catalog.url,
        breaker_failures="100000",  # this test is about the budget, not the breaker
        retry_backoff_base_s="0.001",
        retry_budget_ratio=str(ratio),
        retry_budget_reserve=str(reserve),
    )
    _, auth = sign_up_and_log_in(gateway.url)
    faulty_catalog.fail_ratio = 0.5
    with _client(gateway) as client:
        statuses = [client.get(TRACKS, headers=auth).status_code for _ in range(requests)]
        metrics = client.get("/metrics").text
    assert set(statuses) <= {200, 503}
    assert statuses.count(503) > 0  # retries ran out: without a budget each would have had 3 attempts
    retries = faulty_catalog.calls - requests
    assert 0 < retries <= reserve + ratio * requests
    sent = _metric(metrics, 'gateway_downstream_calls_total{downstream="catalog"')
    assert sent == faulty_catalog.calls  # the gateway's own count agrees with what arrived
    denied = _metric(metrics, 'gateway_retry_budget_exhausted_total{downstream="catalog"}')
    assert denied > 0


def test_a_recommender_slowed_by_2s_degrades_to_the_popular_list_within_the_deadline(
    downstreams: dict[str, ServiceProcess], faulty_recommender: FaultyProxy, start_gateway: GatewayFactory
) -> None:
    """Recommendations are optional: a slow recommender costs the deadline; the caller still gets a list."""
    gateway = start_gateway(
        recommender_url=faulty_recommender.url, request_deadline_s=str(DEADLINE_S), downstream_timeout_s="1.0"
    )
    user_id, auth = sign_up_and_log_in(gateway.url)
    path = f"/recommendations/users/{user_id}/recommendations?k=5"  # the caller's own: others' are a 403
    popular = httpx.get(f"{downstreams['recommender'].url}/popular", timeout=10, trust_env=False).json()
    with _client(gateway) as client:
        normal = client.get(path, headers=auth)
        assert normal.status_code == 200
        assert "x-degraded" not in normal.headers
        faulty_recommender.delay_s = 2.0
        started = time.perf_counter()
        degraded = client.get(path, headers=auth)
        elapsed = time.perf_counter() - started
    assert degraded.status_code == 200
    assert degraded.headers["x-degraded"] == "popular"
    body = degraded.json()
    assert (body["degraded"], body["reason"], body["source"]) == (True, "downstream_timeout", "popular")
    assert body["items"] == popular["items"]  # the list fetched while the recommender was healthy
    assert elapsed < DEADLINE_S + SLACK_S
