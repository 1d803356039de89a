"""Login brute force, throttled through ``ratelimit``: one limit per account and one per client IP.

The per-account limit stops password guessing against one user from many addresses; the per-IP limit stops
one address from spraying a common password across many accounts (OWASP Authentication Cheat Sheet, "Login
Throttling"). Every attempt is charged before the password is checked, so an attacker cannot get argon2 work
for free past the limit. The trade-off: anyone can use up a victim's per-account allowance and lock them out
for a period, which is why the period is short and the answer discusses CAPTCHAs and step-up instead.
The client IP comes from ``ratelimit.client_ip`` with the configured trusted proxies (never a spoofable
``X-Forwarded-For`` from anyone else). The limiter's store being down fails *closed* here (503): a login
endpoint without a limit is exactly what a credential-stuffing run is waiting for.
"""

from __future__ import annotations

import hashlib
import math

from starlette.requests import HTTPConnection

from observability import ApiError, get_logger
from ratelimit import Decision, Identify, Limiter


class LoginThrottle:
    def __init__(self, per_account: Limiter, per_ip: Limiter, identify_ip: Identify) -> None:
        self.per_account = per_account
        self.per_ip = per_ip
        self.identify_ip = identify_ip

    async def charge(self, connection: HTTPConnection, username: str) -> None:
        """Count one login attempt; 429 (with ``Retry-After``) past either limit, 503 without a store."""
        account = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
        ip = self.identify_ip(connection) or "unknown"
        try:
            by_ip = await self.per_ip.hit(f"login:ip:{ip}")
            by_account = await self.per_account.hit(f"login:account:{account}") if by_ip.allowed else by_ip
        except Exception as exc:
            get_logger("gateway.bruteforce").warning("login_limiter_unavailable", error=type(exc).__name__)
            raise ApiError(
                503,
                "rate_limiter_unavailable",
                "login is paused: try again shortly",
                headers={"Retry-After": "1"},
            ) from None
        for decision, who in ((by_ip, "address"), (by_account, "account")):
            if not decision.allowed:
                get_logger("gateway.bruteforce").warning("login_throttled", by=who)
                raise _too_many(decision, who)


def _too_many(decision: Decision, who: str) -> ApiError:
    retry_after = str(max(1, math.ceil(decision.retry_after)))
    return ApiError(
        429,
        "too_many_login_attempts",
        f"too many login attempts for this {who}",
        headers={"Retry-After": retry_after},
    )
