"""One downstream service: a pooled HTTP client, its circuit breaker, its retry budget, and the call loop.

``Downstream.call`` sends one request with the policy of ``resilience.py``: each attempt asks the breaker
first (open: fail at once, no socket touched), runs under the smaller of its own timeout and the request's
remaining deadline, and counts transport errors, timeouts and 5xx as failures. A failed *idempotent* call is
retried after a jittered backoff if the deadline leaves room and the retry budget has a token; otherwise the
last answer is returned (a 5xx is the downstream's own answer and passes through) or ``DownstreamError``
is raised for the route to turn into 502/503/504. 4xx are the caller's problem: success for the breaker,
never retried. The body is streamed and capped at ``max_response_bytes`` (decoded, so a gzip bomb counts at
its inflated size): a downstream that answers more than that, whether by bug or compromise, gets a 502
instead of our memory (OWASP API10:2023, unsafe consumption of APIs). Too large is not retried: it would
only be as large again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from prometheus_client import Counter, Gauge

from gateway.resilience import Deadline, RetryBudget, backoff_delays
from ratelimit import BreakerState, CircuitBreaker

RETRYABLE_STATUS = frozenset({502, 503, 504})
# headers that describe the wire form of a body we have already decoded and measured
WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
# the gateway decodes every body anyway (to cap it) and answers its caller with the decoded body, so on a
# loopback or in-cluster hop gzip would only cost CPU at both ends; ``forwarding.py`` drops the caller's own
# Accept-Encoding, which would otherwise override this
INTERNAL_ACCEPT_ENCODING = "identity"

CALLS = Counter(
    "gateway_downstream_calls_total", "Attempts sent to a downstream, by outcome.", ["downstream", "outcome"]
)
RETRIES = Counter("gateway_downstream_retries_total", "Retries sent to a downstream.", ["downstream"])
RETRIES_DENIED = Counter(
    "gateway_retry_budget_exhausted_total", "Retries not sent because the budget was empty.", ["downstream"]
)
BREAKER_STATE = Gauge(
    "gateway_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.", ["downstream"]
)
BREAKER_TRANSITIONS = Counter(
    "gateway_breaker_transitions_total", "Circuit breaker state changes.", ["downstream", "to"]
)
_STATE_VALUE = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class DownstreamError(Exception):
    """No usable answer: ``reason`` is ``breaker_open``, ``timeout``, ``unreachable`` or ``too_large``."""

    def __init__(self, downstream: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{downstream}: {reason}{': ' + detail if detail else ''}")
        self.downstream = downstream
        self.reason = reason

    @property
    def status(self) -> int:
        return {"breaker_open": 503, "timeout": 504}.get(self.reason, 502)


@dataclass(frozen=True)
class CallPolicy:
    attempt_timeout_s: float = 2.0
    max_attempts: int = 3
    backoff_base_s: float = 0.05
    backoff_cap_s: float = 1.0
    max_response_bytes: int = 8 * 1024 * 1024


@dataclass
class Downstream:
    name: str
    client: httpx.AsyncClient
    breaker: CircuitBreaker
    budget: RetryBudget
    policy: CallPolicy = field(default_factory=CallPolicy)
    rand: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        self.client.headers["Accept-Encoding"] = INTERNAL_ACCEPT_ENCODING  # replaces httpx's "gzip, deflate"
        self.breaker.on_change = self._breaker_changed
        BREAKER_STATE.labels(self.name).set(_STATE_VALUE[self.breaker.state])

    def _breaker_changed(self, _old: BreakerState, new: BreakerState) -> None:
        BREAKER_STATE.labels(self.name).set(_STATE_VALUE[new])
        BREAKER_TRANSITIONS.labels(self.name, new.value).inc()

    async def call(
        self,
        method: str,
        path: str,
        *,
        deadline: Deadline,
        idempotent: bool,
        headers: Callable[[float], list[tuple[str, str]]],
        params: httpx.QueryParams | None = None,
        content: bytes = b"",
    ) -> httpx.Response:
        """Send with timeouts, breaker and retries; ``headers(remaining_s)`` builds each attempt's headers."""
        self.budget.record_request()
        delays = backoff_delays(self.policy.backoff_base_s, self.policy.backoff_cap_s, rand=self.rand)
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(method, path, deadline, headers, params, content)
            failed = isinstance(outcome, DownstreamError) or outcome.status_code in RETRYABLE_STATUS
            if not failed or not idempotent or attempt >= self.policy.max_attempts:
                return _result(outcome)
            if isinstance(outcome, DownstreamError) and outcome.reason in {"breaker_open", "too_large"}:
                return _result(outcome)
            delay = next(delays)
            if deadline.remaining() <= delay:
                return _result(outcome)  # no time left for another try: answer now, within the deadline
            if not self.budget.try_spend():
                RETRIES_DENIED.labels(self.name).inc()
                return _result(outcome)
            RETRIES.labels(self.name).inc()
            if isinstance(outcome, httpx.Response):
                await outcome.aclose()
            await asyncio.sleep(delay)

    async def _attempt(  # noqa: PLR0917 - the parts of one request, in the order call() holds them
        self,
        method: str,
        path: str,
        deadline: Deadline,
        headers: Callable[[float], list[tuple[str, str]]],
        params: httpx.QueryParams | None,
        content: bytes,
    ) -> httpx.Response | DownstreamError:
        timeout = deadline.attempt_timeout(self.policy.attempt_timeout_s)
        if timeout <= 0:  # checked before the breaker, so a spent deadline never takes a half-open probe slot
            return DownstreamError(self.name, "timeout", "request deadline already spent")
        if not self.breaker.allow():
            CALLS.labels(self.name, "breaker_open").inc()
            return DownstreamError(self.name, "breaker_open")
        request = self.client.build_request(
            method, path, params=params, content=content, headers=headers(timeout), timeout=timeout
        )
        try:
            # asyncio.timeout as well as httpx's: the whole attempt (connect, send, read) fits the budget
            async with asyncio.timeout(timeout):
                response = await self._send_capped(request)
        except (TimeoutError, httpx.TimeoutException) as exc:
            self.breaker.record_failure()
            CALLS.labels(self.name, "timeout").inc()
            return DownstreamError(self.name, "timeout", type(exc).__name__)
        except httpx.RequestError as exc:  # connect refused/reset, protocol and decoding errors
            self.breaker.record_failure()
            CALLS.labels(self.name, "unreachable").inc()
            return DownstreamError(self.name, "unreachable", type(exc).__name__)
        if response is None:
            self.breaker.record_failure()
            CALLS.labels(self.name, "too_large").inc()
            limit = self.policy.max_response_bytes
            return DownstreamError(self.name, "too_large", f"more than {limit} bytes")
        if response.status_code >= 500:
            self.breaker.record_failure()
            CALLS.labels(self.name, "server_error").inc()
        else:
            self.breaker.record_success()
            CALLS.labels(self.name, "ok").inc()
        return response

    async def _send_capped(self, request: httpx.Request) -> httpx.Response | None:
        """The response with its body read, or ``None`` once the body passes ``max_response_bytes``."""
        limit = self.policy.max_response_bytes
        response = await self.client.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                return None  # refused before reading a byte of it
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    return None
        finally:
            await response.aclose()
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in WIRE_HEADERS]
        return httpx.Response(response.status_code, headers=headers, content=bytes(body), request=request)


def _result(outcome: httpx.Response | DownstreamError) -> httpx.Response:
    if isinstance(outcome, DownstreamError):
        raise outcome
    return outcome
