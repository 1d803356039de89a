"""The IETF RateLimit header fields and ``Retry-After``, as the current draft spells them.

draft-ietf-httpapi-ratelimit-headers (checked against draft 11, May 2026) replaced the early drafts'
``RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` trio with two Structured Fields (RFC 8941/9651) Lists whose
members name a policy and carry its figures as parameters:

    RateLimit-Policy: "default";q=100;w=60      q = quota (required), w = window in seconds, qu = quota unit
    RateLimit: "default";r=0;t=30               r = remaining quota units (required), t = seconds until reset

Both are whole seconds ("delay-seconds" like ``Retry-After``): no clock synchronisation, and no thundering
herd of clients all told the same instant. When a response carries both ``Retry-After`` and ``RateLimit``, the
draft asks that ``t`` name the same moment, so on a refusal ``t`` is the retry delay rather than the full
reset. We send the optional ``qu`` only for non-default units and never the partition key ``pk``: it would
echo the client's identity (API key, IP) into every response.

Source: https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/
"""

from __future__ import annotations

import math

from ratelimit.decision import Decision, Limit

RATELIMIT_POLICY = "RateLimit-Policy"
RATELIMIT = "RateLimit"
RETRY_AFTER = "Retry-After"

DEFAULT_QUOTA_UNIT = "request"


def sf_string(text: str) -> str:
    """An RFC 8941 sf-string: printable ASCII in double quotes, with ``"`` and ``\\`` escaped."""
    if any(not (0x20 <= ord(c) <= 0x7E) for c in text):
        raise ValueError(f"a Structured Field string must be printable ASCII, got {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def whole_seconds(seconds: float) -> int:
    """Round a delay *up*: a client told 0 when 0.4 s remain would retry too early and be refused again."""
    return max(0, math.ceil(seconds - 1e-9))


def policy_item(name: str, limit: Limit, quota_unit: str = DEFAULT_QUOTA_UNIT) -> str:
    """One member of ``RateLimit-Policy``, e.g. ``"default";q=100;w=60``."""
    item = f"{sf_string(name)};q={limit.limit};w={max(1, whole_seconds(limit.period))}"
    if quota_unit != DEFAULT_QUOTA_UNIT:
        item += f";qu={sf_string(quota_unit)}"
    return item


def ratelimit_item(name: str, decision: Decision) -> str:
    """One member of ``RateLimit``, e.g. ``"default";r=0;t=30``; ``t`` equals ``Retry-After`` if refused."""
    reset = retry_after_seconds(decision) if not decision.allowed else whole_seconds(decision.reset_after)
    return f"{sf_string(name)};r={max(0, decision.remaining)};t={reset}"


def retry_after_seconds(decision: Decision) -> int:
    """``Retry-After`` for a refusal: at least 1, since ``0`` invites an immediate, doomed retry."""
    return max(1, whole_seconds(decision.retry_after))


def rate_limit_headers(name: str, limit: Limit, decision: Decision | None) -> dict[str, str]:
    """The headers for a response under policy ``name``; without a decision (degraded), only the policy."""
    headers = {RATELIMIT_POLICY: policy_item(name, limit)}
    if decision is not None:
        headers[RATELIMIT] = ratelimit_item(name, decision)
        if not decision.allowed:
            headers[RETRY_AFTER] = str(retry_after_seconds(decision))
    return headers
