"""The pure resilience maths: deadlines, which calls may be retried, jittered backoff, the retry budget."""

from __future__ import annotations

import pytest

from gateway.forwarding import request_headers, response_headers
from gateway.resilience import Deadline, RetryBudget, backoff_delays, is_idempotent, parse_budget_ms


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.unit
def test_each_attempt_timeout_shrinks_to_what_is_left_of_the_deadline() -> None:
    clock = Clock()
    deadline = Deadline(1.0, clock=clock)
    assert deadline.attempt_timeout(0.4) == pytest.approx(0.4)
    clock.now += 0.8
    assert deadline.attempt_timeout(0.4) == pytest.approx(0.2)
    clock.now += 0.5
    assert deadline.expired
    assert deadline.attempt_timeout(0.4) == 0.0


@pytest.mark.unit
def test_a_caller_may_shorten_the_deadline_but_never_extend_it_past_the_maximum() -> None:
    assert parse_budget_ms("250", 3.0, 10.0) == pytest.approx(0.25)
    assert parse_budget_ms("60000", 3.0, 10.0) == pytest.approx(10.0)
    assert parse_budget_ms("soon", 3.0, 10.0) == pytest.approx(3.0)
    assert parse_budget_ms(None, 3.0, 10.0) == pytest.approx(3.0)


@pytest.mark.unit
def test_only_idempotent_methods_or_keyed_posts_may_be_retried() -> None:
    for method in ("GET", "HEAD", "PUT", "DELETE", "get"):
        assert is_idempotent(method, {})
    assert not is_idempotent("POST", {})
    assert not is_idempotent("POST", {"idempotency-key": "  "})
    assert is_idempotent("POST", {"idempotency-key": "k-1"})


@pytest.mark.unit
def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    ceilings = list(zip(range(6), backoff_delays(0.1, 1.0, rand=lambda: 1.0), strict=False))
    assert [round(delay, 6) for _, delay in ceilings] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert next(backoff_delays(0.1, 1.0, rand=lambda: 0.0)) == 0.0


@pytest.mark.unit
def test_the_retry_budget_caps_retries_at_reserve_plus_ratio_of_requests() -> None:
    budget = RetryBudget(0.1, reserve=3)
    for _ in range(1000):
        budget.record_request()
        budget.try_spend()  # every request fails and wants a retry
    assert budget.retries <= 3 + 0.1 * 1000
    assert budget.retries >= 0.1 * 1000 - 1  # and the budget is actually spent, not hoarded


@pytest.mark.unit
def test_an_empty_budget_refuses_retries() -> None:
    budget = RetryBudget(0.0, reserve=1)
    assert budget.try_spend()
    assert not budget.try_spend()


@pytest.mark.unit
def test_hop_by_hop_headers_are_dropped_and_correlation_headers_added() -> None:
    incoming = [
        ("Connection", "keep-alive, X-Hop"),
        ("X-Hop", "1"),
        ("Keep-Alive", "timeout=5"),
        ("Host", "gateway"),
        ("X-Request-ID", "spoofed"),
        ("Authorization", "Bearer t"),
    ]
    out = dict(request_headers(incoming, request_id="rid-1", remaining_s=0.75))
    assert out == {"Authorization": "Bearer t", "x-request-id": "rid-1", "x-request-deadline": "750"}
    back = response_headers([("Server", "uvicorn"), ("Transfer-Encoding", "chunked"), ("ETag", '"1"')])
    assert back == [("ETag", '"1"')]
