"""Policies, rules, and the one place a request is judged: admitted, limited, or degraded.

A ``Policy`` is *what* is counted and *against whom*: a name (it appears in the RateLimit headers), a limiter
and an identity strategy. A ``Rule`` is *where* it applies: the routes it covers, what a request there costs,
and what happens when the limiter's store is down. ``Enforcer.check`` is shared by the ASGI middleware and the
FastAPI dependency, so both behave the same.

Redis down is a policy decision, not an accident: each rule **fails open** (serve without limiting; right for
reads that protect nothing scarce) or **fails closed** (refuse with 503 ``rate_limiter_unavailable`` and a
``Retry-After``; right where the limit guards money or abuse, e.g. login or SMS sending). We chose 503 over
429 deliberately: the client did nothing wrong, the service is unavailable, and retry libraries treat 503 as
retryable. Either way the store gets a short timeout, and a circuit breaker stops even that timeout from being
paid on every request while Redis is dead. Every degraded decision is counted
(``ratelimit_degraded_decisions_total{policy,mode}``) and logged; none becomes a 500.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Literal

import structlog
from prometheus_client import Counter, Gauge
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Scope

from ratelimit.breaker import BreakerState, CircuitBreaker
from ratelimit.decision import Decision, Limiter
from ratelimit.errors import error_response
from ratelimit.headers import RETRY_AFTER, rate_limit_headers
from ratelimit.identity import Identify
from ratelimit.routes import RouteMatch

FailMode = Literal["open", "closed"]

DECISIONS = Counter(
    "ratelimit_decisions_total", "Rate-limit decisions made by the limiter.", ["policy", "outcome"]
)
DEGRADED = Counter(
    "ratelimit_degraded_decisions_total",
    "Requests decided without the limiter's store (it failed, timed out, or the breaker was open).",
    ["policy", "mode"],
)
BREAKER_OPEN = Gauge(
    "ratelimit_breaker_open",
    "1 while the limiter store's circuit breaker is open.",
    multiprocess_mode="livemax",
)


def _log() -> structlog.typing.FilteringBoundLogger:
    # looked up per use, so a logging configuration applied after import (or by a test) is always honoured
    return structlog.get_logger("ratelimit")  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Policy:
    """``Policy("default", limiter, first_of(api_key(), client_ip(proxies)))``."""

    name: str
    limiter: Limiter
    identify: Identify


@dataclass(frozen=True, slots=True)
class Rule:
    """Apply ``policy`` to requests matching ``match``, charging ``cost`` units each."""

    policy: Policy
    match: RouteMatch = field(default_factory=RouteMatch)
    cost: int = 1
    fail: FailMode = "open"
    timeout_s: float = 0.1  # loopback Redis answers in ~0.2 ms; 100 ms means it is in trouble

    def __post_init__(self) -> None:
        if not 1 <= self.cost <= self.policy.limiter.limit.limit:
            raise ValueError(f"cost {self.cost} can never be admitted by {self.policy.limiter.limit}")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one request; ``decision`` is ``None`` when the store was not (successfully) asked."""

    rule: Rule
    allowed: bool
    headers: dict[str, str]
    decision: Decision | None = None
    degraded_reason: str | None = None


class Enforcer:
    """Judges requests against rules. One per backend: its breaker tracks that backend's health."""

    def __init__(self, breaker: CircuitBreaker | None = None) -> None:
        self.breaker = breaker or CircuitBreaker()
        if (
            self.breaker.on_change is None
        ):  # every transition is logged and exported, whoever built the breaker
            self.breaker.on_change = _log_breaker_change

    async def check(self, rule: Rule, conn: HTTPConnection) -> Verdict:
        policy = rule.policy
        key = f"{policy.name}:{policy.identify(conn) or 'anonymous'}"
        if not self.breaker.allow():
            return self._degraded(rule, "breaker_open")
        try:
            async with asyncio.timeout(rule.timeout_s):
                decision = await policy.limiter.hit(key, rule.cost)
        except Exception as exc:  # any store failure degrades per policy; a 500 here would be the outage
            self.breaker.record_failure()
            return self._degraded(rule, type(exc).__name__)
        self.breaker.record_success()
        DECISIONS.labels(policy.name, "allowed" if decision.allowed else "limited").inc()
        headers = rate_limit_headers(policy.name, policy.limiter.limit, decision)
        return Verdict(rule, decision.allowed, headers, decision)

    def refusal(self, verdict: Verdict, scope: Scope) -> Response:
        """The response for a refused request: 429 when over the limit, 503 when failing closed."""
        return error_response(scope, *self.refusal_parts(verdict))

    def refusal_parts(self, verdict: Verdict) -> tuple[int, str, str, dict[str, str]]:
        """Status, error code, message and headers of a refusal (rendered by ``refusal`` or raw ASGI)."""
        policy, decision = verdict.rule.policy, verdict.decision
        if decision is not None:
            limit = policy.limiter.limit
            message = (
                f"rate limit '{policy.name}' exceeded ({limit.limit} per {limit.period:g} s); "
                f"retry after {verdict.headers[RETRY_AFTER]} s"
            )
            return 429, "rate_limited", message, verdict.headers
        headers = {**verdict.headers, RETRY_AFTER: str(math.ceil(self.breaker.reset_timeout_s))}
        message = f"rate limiter for '{policy.name}' is unavailable and this route fails closed; retry later"
        return 503, "rate_limiter_unavailable", message, headers

    def _degraded(self, rule: Rule, reason: str) -> Verdict:
        name = rule.policy.name
        DEGRADED.labels(name, rule.fail).inc()
        _log().warning(
            "ratelimit_degraded", policy=name, mode=rule.fail, reason=reason, route=rule.match.label
        )
        # the policy is static and still true; the remaining quota is unknown, so no RateLimit field
        headers = rate_limit_headers(name, rule.policy.limiter.limit, None)
        return Verdict(rule, rule.fail == "open", headers, None, reason)


def _log_breaker_change(old: BreakerState, new: BreakerState) -> None:
    BREAKER_OPEN.set(1 if new is BreakerState.OPEN else 0)
    _log().warning("ratelimit_breaker", old=old.value, new=new.value)
