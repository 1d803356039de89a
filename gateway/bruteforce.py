"""Login brute force and mass sign-up, throttled through ``ratelimit``: per account, per client IP.

The per-account limit stops password guessing against one user from many addresses; the per-IP limit stops
one address from spraying a common password across many accounts (OWASP Authentication Cheat Sheet, "Login
Throttling"). Every attempt is charged before the password is checked, so an attacker cannot get argon2 work
for free past the limit. The trade-off: anyone can use up a victim's per-account allowance and lock them out
for a period, which is why the period is short and the answer discusses CAPTCHAs and step-up instead.
The client IP comes from ``ratelimit.client_ip`` with the configured trusted proxies (never a spoofable
``X-Forwarded-For`` from anyone else). The limiter's store being down fails *closed* here (503): a login
endpoint without a limit is exactly what a credential-stuffing run is waiting for.

Sign-up has a policy of its own (``SignUpThrottle``: per client IP, a longer period). Sharing login's would
let a burst of sign-ups use up an address's login attempts, and a sign-up for the name ``alice`` spend alice's
per-account allowance, a lockout for free; account creation is a different flow with a different rate.
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
        by_ip = await _hit(self.per_ip, f"login:ip:{ip}", "login")
        by_account = (
            await _hit(self.per_account, f"login:account:{account}", "login") if by_ip.allowed else by_ip
        )
        for decision, who in ((by_ip, "address"), (by_account, "account")):
            if not decision.allowed:
                get_logger("gateway.bruteforce").warning("login_throttled", by=who)
                raise _too_many(
                    decision, "too_many_login_attempts", f"too many login attempts for this {who}"
                )


class SignUpThrottle:
    def __init__(self, per_ip: Limiter, identify_ip: Identify) -> None:
        self.per_ip = per_ip
        self.identify_ip = identify_ip

    async def charge(self, connection: HTTPConnection) -> None:
        """Count one sign-up for the client's address; 429 past the limit, 503 without a store."""
        ip = self.identify_ip(connection) or "unknown"
        decision = await _hit(self.per_ip, f"signup:ip:{ip}", "sign-up")
        if not decision.allowed:
            get_logger("gateway.bruteforce").warning("signup_throttled")
            raise _too_many(decision, "too_many_sign_ups", "too many accounts created from this address")


async def _hit(limiter: Limiter, key: str, flow: str) -> Decision:
    try:
        return await limiter.hit(key)
    except Exception as exc:
        get_logger("gateway.bruteforce").warning("limiter_unavailable", flow=flow, error=type(exc).__name__)
        raise ApiError(
            503,
            "rate_limiter_unavailable",
            f"{flow} is paused: try again shortly",
            headers={"Retry-After": "1"},
        ) from None


def _too_many(decision: Decision, code: str, message: str) -> ApiError:
    retry_after = str(max(1, math.ceil(decision.retry_after)))
    return ApiError(429, code, message, headers={"Retry-After": retry_after})
