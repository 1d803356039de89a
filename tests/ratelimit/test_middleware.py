"""The ASGI middleware and the FastAPI dependency: headers on every response, 429s, costs, identities,
degradation.

A clock-free fake limiter (``web_fakes.BudgetLimiter``) stands in for Redis; the real backends are exercised
by ``test_redis_down.py`` and the algorithm suite.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from prometheus_client import REGISTRY
from starlette.types import ASGIApp, Receive, Scope, Send
from structlog.testing import capture_logs

from observability import instrument, request_id
from ratelimit.breaker import CircuitBreaker
from ratelimit.decision import Limit
from ratelimit.errors import OBSERVABILITY_SCOPE_KEY
from ratelimit.identity import TrustedProxies, api_key, client_ip, first_of, user_id
from ratelimit.middleware import RateLimitDependency, RateLimitMiddleware, install_rate_limit_handler
from ratelimit.policy import Enforcer, Policy, Rule
from ratelimit.routes import RouteMatch
from tests.ratelimit.web_fakes import BudgetLimiter

pytestmark = pytest.mark.unit

CLIENT = ("198.51.100.7", 40_000)
IDENTIFY = first_of(api_key(), client_ip(TrustedProxies(["10.0.0.5"])))


def make_app(rules: Sequence[Rule], *, enforcer: Enforcer | None = None) -> FastAPI:
    app = FastAPI()

    @app.get("/api/items")
    async def items() -> dict[str, str]:
        return {"ok": "items"}

    @app.get("/api/search")
    async def search() -> dict[str, str]:
        return {"ok": "search"}

    @app.post("/api/items")
    async def create() -> dict[str, str]:
        return {"ok": "created"}

    @app.get("/users/{user_id}")
    async def user(user_id: str) -> dict[str, str]:
        return {"user": user_id}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"ok": "yes"}

    app.add_middleware(RateLimitMiddleware, rules=rules, enforcer=enforcer)
    return app


async def client_for(app: ASGIApp, client: tuple[str, int] = CLIENT) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=client), base_url="http://test")


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, BudgetLimiter]]:
    limiter = BudgetLimiter(Limit(3, 60))
    policy = Policy("api", limiter, IDENTIFY)
    rules = [Rule(policy, RouteMatch(route="/api/search"), cost=2), Rule(policy, RouteMatch(prefix="/api/"))]
    async with await client_for(make_app(rules)) as client:
        yield client, limiter


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_every_admitted_response_under_a_policy_carries_both_ratelimit_fields(
    api: tuple[httpx.AsyncClient, BudgetLimiter],
) -> None:
    client, _ = api
    remaining = []
    for _ in range(3):
        response = await client.get("/api/items")
        assert response.status_code == 200
        assert response.headers["RateLimit-Policy"] == '"api";q=3;w=60'
        remaining.append(response.headers["RateLimit"])
    assert remaining == ['"api";r=2;t=60', '"api";r=1;t=60', '"api";r=0;t=60']


async def test_past_the_limit_the_answer_is_429_with_the_error_envelope_and_retry_after(
    api: tuple[httpx.AsyncClient, BudgetLimiter],
) -> None:
    client, _ = api
    for _ in range(3):
        await client.get("/api/items")
    response = await client.get("/api/items", headers={"X-Request-ID": "req-abc"})
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"
    assert response.headers["Retry-After"] == "60"
    assert response.headers["RateLimit"] == '"api";r=0;t=60'
    assert response.headers["RateLimit-Policy"] == '"api";q=3;w=60'
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["request_id"] == "req-abc"
    assert "retry after 60 s" in error["message"]


async def test_the_request_id_comes_from_the_observability_state_or_is_made_up_and_returned() -> None:
    limiter = BudgetLimiter(Limit(1, 60))
    inner = make_app([Rule(Policy("tiny", limiter, IDENTIFY))])

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["request_id"] = "from-state"
        await inner(scope, receive, send)

    async with await client_for(with_state) as client:
        await client.get("/api/items")
        refused = await client.get("/api/items")
    assert refused.json()["error"]["request_id"] == "from-state"

    async with await client_for(inner, ("203.0.113.9", 1)) as client:
        await client.get("/api/items")
        refused = await client.get("/api/items")
    made_up = refused.json()["error"]["request_id"]
    assert len(made_up) == 32
    assert refused.headers["X-Request-ID"] == made_up


async def test_behind_observability_the_envelope_quotes_the_request_id_the_response_echoes() -> None:
    """One id per request: the one observability minted and logs, in the body and in a single header."""
    app = make_app([Rule(Policy("obs", BudgetLimiter(Limit(1, 60)), IDENTIFY))])
    instrument(app, service="ratelimit-test", tracing=False)
    async with await client_for(app) as client:
        await client.get("/api/items")
        refused = await client.get("/api/items")
    assert refused.status_code == 429
    assert refused.headers.get_list("X-Request-ID") == [refused.json()["error"]["request_id"]]


def test_the_scope_key_we_read_is_the_one_observability_writes() -> None:
    assert OBSERVABILITY_SCOPE_KEY == request_id.SCOPE_KEY


async def test_a_malformed_incoming_request_id_is_not_echoed() -> None:
    app = make_app([Rule(Policy("bad-id", BudgetLimiter(Limit(1, 60)), IDENTIFY))])
    async with await client_for(app) as client:
        await client.get("/api/items")
        refused = await client.get("/api/items", headers={"X-Request-ID": 'x" onmouseover="evil'})
    assert refused.json()["error"]["request_id"] != 'x" onmouseover="evil'
    assert len(refused.json()["error"]["request_id"]) == 32


async def test_routes_under_no_policy_get_no_ratelimit_fields(
    api: tuple[httpx.AsyncClient, BudgetLimiter],
) -> None:
    client, limiter = api
    response = await client.get("/health")
    assert response.status_code == 200
    assert "RateLimit" not in response.headers
    assert "RateLimit-Policy" not in response.headers
    assert limiter.calls == []


async def test_each_route_charges_its_own_cost_against_the_shared_policy(
    api: tuple[httpx.AsyncClient, BudgetLimiter],
) -> None:
    client, limiter = api
    search = await client.get("/api/search")
    assert search.headers["RateLimit"] == '"api";r=1;t=60'
    assert (await client.get("/api/search")).status_code == 429  # costs 2, only 1 left
    assert (await client.get("/api/items")).status_code == 200  # costs 1: still fits
    assert [cost for _, cost in limiter.calls] == [2, 2, 1]


async def test_the_first_matching_rule_decides(api: tuple[httpx.AsyncClient, BudgetLimiter]) -> None:
    client, limiter = api
    await client.get("/api/search")
    await client.post("/api/items")
    assert [cost for _, cost in limiter.calls] == [2, 1]


async def test_each_identity_has_its_own_bucket(api: tuple[httpx.AsyncClient, BudgetLimiter]) -> None:
    client, limiter = api
    for _ in range(3):
        await client.get("/api/items", headers={"X-API-Key": "alice"})
    assert (await client.get("/api/items", headers={"X-API-Key": "alice"})).status_code == 429
    assert (await client.get("/api/items", headers={"X-API-Key": "bob"})).status_code == 200
    assert (await client.get("/api/items")).status_code == 200  # no key: by client address
    keys = {key for key, _ in limiter.calls}
    assert len(keys) == 3
    assert all(key.startswith("api:") for key in keys)
    assert "api:ip:198.51.100.7" in keys


async def test_clients_behind_the_trusted_proxy_are_told_apart_and_cannot_spoof() -> None:
    limiter = BudgetLimiter(Limit(1, 60))
    app = make_app([Rule(Policy("ip", limiter, IDENTIFY))])
    async with await client_for(app, ("10.0.0.5", 1)) as via_proxy:
        assert (
            await via_proxy.get("/api/items", headers={"X-Forwarded-For": "198.51.100.1"})
        ).status_code == 200
        assert (
            await via_proxy.get("/api/items", headers={"X-Forwarded-For": "198.51.100.2"})
        ).status_code == 200
        spoof = {"X-Forwarded-For": "203.0.113.50, 198.51.100.1"}  # client-written hop + the proxy's real one
        assert (await via_proxy.get("/api/items", headers=spoof)).status_code == 429
    async with await client_for(app, ("198.51.100.3", 1)) as direct:
        assert (
            await direct.get("/api/items", headers={"X-Forwarded-For": "203.0.113.77"})
        ).status_code == 200
        spoof = {"X-Forwarded-For": "203.0.113.78"}  # a new made-up address is no new bucket
        assert (await direct.get("/api/items", headers=spoof)).status_code == 429


async def test_route_templates_match_like_the_router_does() -> None:
    limiter = BudgetLimiter(Limit(5, 60))
    app = make_app([Rule(Policy("users", limiter, IDENTIFY), RouteMatch(route="/users/{user_id}"))])
    async with await client_for(app) as client:
        assert "RateLimit" in (await client.get("/users/42")).headers
        assert "RateLimit" not in (await client.get("/users/42/playlists")).headers
        assert "RateLimit" not in (await client.get("/users")).headers


async def test_rules_can_be_limited_to_methods() -> None:
    limiter = BudgetLimiter(Limit(5, 60))
    rule = Rule(Policy("writes", limiter, IDENTIFY), RouteMatch(prefix="/api/", methods=frozenset({"post"})))
    async with await client_for(make_app([rule])) as client:
        assert "RateLimit" in (await client.post("/api/items")).headers
        assert "RateLimit" not in (await client.get("/api/items")).headers


async def test_a_failing_limiter_on_a_fail_open_route_serves_without_limiting_and_says_so() -> None:
    limiter = BudgetLimiter(Limit(5, 60), fail=True)
    rule = Rule(Policy("open-route", limiter, IDENTIFY), fail="open")
    before = metric("ratelimit_degraded_decisions_total", policy="open-route", mode="open")
    async with await client_for(make_app([rule])) as client:
        with capture_logs() as logs:
            response = await client.get("/api/items")
    assert response.status_code == 200
    assert response.headers["RateLimit-Policy"] == '"open-route";q=5;w=60'
    assert "RateLimit" not in response.headers  # the remaining quota is unknown: claim nothing
    assert metric("ratelimit_degraded_decisions_total", policy="open-route", mode="open") == before + 1
    degraded = [e for e in logs if e["event"] == "ratelimit_degraded"]
    assert degraded == [
        {
            "event": "ratelimit_degraded",
            "log_level": "warning",
            "policy": "open-route",
            "mode": "open",
            "reason": "RateLimitBackendError",
            "route": "*",
        }
    ]


async def test_a_failing_limiter_on_a_fail_closed_route_answers_503_with_retry_after() -> None:
    limiter = BudgetLimiter(Limit(5, 60), fail=True)
    rule = Rule(Policy("closed-route", limiter, IDENTIFY), fail="closed")
    before = metric("ratelimit_degraded_decisions_total", policy="closed-route", mode="closed")
    async with await client_for(make_app([rule])) as client:
        response = await client.get("/api/items")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "rate_limiter_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert metric("ratelimit_degraded_decisions_total", policy="closed-route", mode="closed") == before + 1


async def test_a_slow_limiter_is_cut_off_by_the_timeout() -> None:
    limiter = BudgetLimiter(Limit(5, 60), delay_s=5)
    rule = Rule(Policy("slow", limiter, IDENTIFY), timeout_s=0.05)
    async with await client_for(make_app([rule])) as client:
        started = time.perf_counter()
        response = await client.get("/api/items")
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed < 1.0, f"a 50 ms timeout took {elapsed:.2f} s"


async def test_once_the_breaker_opens_a_dead_limiter_is_not_even_asked() -> None:
    limiter = BudgetLimiter(Limit(5, 60), fail=True)
    enforcer = Enforcer(CircuitBreaker(failure_threshold=3, reset_timeout_s=60))
    app = make_app([Rule(Policy("dead", limiter, IDENTIFY))], enforcer=enforcer)
    async with await client_for(app) as client:
        statuses = [(await client.get("/api/items")).status_code for _ in range(20)]
    assert statuses == [200] * 20
    assert len(limiter.calls) == 3


async def test_non_http_scopes_pass_straight_through() -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    middleware = RateLimitMiddleware(inner, [Rule(Policy("p", BudgetLimiter(Limit(1, 1)), IDENTIFY))])

    async def receive() -> dict[str, str]:
        return {"type": "lifespan.startup"}

    async def send(_message: object) -> None:
        return None

    await middleware({"type": "lifespan"}, receive, send)
    assert seen == ["lifespan"]


def test_a_rule_whose_cost_can_never_be_admitted_is_refused_at_configuration_time() -> None:
    with pytest.raises(ValueError, match="can never be admitted"):
        Rule(Policy("p", BudgetLimiter(Limit(3, 1)), IDENTIFY), cost=4)


def dependency_app(limiter: BudgetLimiter, *, install_handler: bool = True) -> FastAPI:
    app = FastAPI()
    if install_handler:
        install_rate_limit_handler(app)

    async def authenticate(request: Request) -> None:  # stands in for real auth: it runs before the limit
        request.state.user_id = request.headers.get("x-user", "anonymous")

    per_user = RateLimitDependency(Policy("per-user", limiter, user_id()), cost=1)

    @app.get("/me", dependencies=[Depends(authenticate), Depends(per_user)])
    async def me(request: Request) -> dict[str, str]:
        return {"user": request.state.user_id}

    return app


async def test_the_dependency_limits_per_user_after_auth_has_run() -> None:
    limiter = BudgetLimiter(Limit(2, 60))
    async with await client_for(dependency_app(limiter)) as client:
        ok = [await client.get("/me", headers={"X-User": "ann"}) for _ in range(2)]
        refused = await client.get("/me", headers={"X-User": "ann", "X-Request-ID": "r-1"})
        other = await client.get("/me", headers={"X-User": "ben"})
    assert [r.status_code for r in ok] == [200, 200]
    assert ok[1].headers["RateLimit"] == '"per-user";r=0;t=60'
    assert ok[1].headers["RateLimit-Policy"] == '"per-user";q=2;w=60'
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.json() == {
        "error": {"code": "rate_limited", "message": refused.json()["error"]["message"], "request_id": "r-1"}
    }
    assert other.status_code == 200
    assert {key for key, _ in limiter.calls} == {"per-user:user:ann", "per-user:user:ben"}


async def test_without_our_handler_the_dependency_still_answers_429_with_retry_after() -> None:
    limiter = BudgetLimiter(Limit(1, 60))
    async with await client_for(dependency_app(limiter, install_handler=False)) as client:
        await client.get("/me")
        refused = await client.get("/me")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
