"""Load shedding: refuse work this instance cannot finish in time, cheapest and least important first.

A rate limiter protects the service from one client; a load shedder protects it from all of them at once, e.g.
the minutes after a big album drop. Past a bound on in-flight requests, extra work only waits in queues, so
every admitted request gets slower until all of them time out. Shedding the excess with an immediate 503 keeps
the admitted requests as fast as they were at normal load: that is the whole point.

Not all requests are equal. Stripe's "fleet usage load shedder" reserves a share of capacity for critical
requests, so non-critical traffic is shed first (Stripe engineering blog, "Scaling your API with rate
limiters", 2017). Here each *route class* may use up to ``share`` of ``max_in_flight``: by default
``critical`` may fill the whole bound and ``default`` only 80% of it, so the last 20% is always there for
critical routes (starting a stream, payments), however heavy the spike on browsing routes. Exempt routes
(health checks, metrics) are neither counted nor shed: an instance that fails its liveness probe under load is
killed and makes the spike worse.

An in-flight bound does not see the CPU, so an optional ``LoopLagProbe`` (``ratelimit.queue_delay``, CoDel's
standing-queue test on the event loop's lag) also sheds non-critical classes (share < 1) while the loop
itself is the queue. And a shed request must cost next to nothing, or shedding hundreds of requests a second
eats the core the admitted ones need: the refusal is a raw ASGI ``Refusal`` with headers prepared at start-up,
and the middleware belongs at the very edge of the application, outside access logs, metrics and tracing
middleware too (wrap the instrumented app, as ``loadtests.spike_app`` does; ``add_middleware`` would put it
inside them). Shed requests are still counted by ``loadshedder_shed_total``: a counter increment is cheap.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send

from ratelimit.queue_delay import LoopLagProbe
from ratelimit.refusal import Refusal
from ratelimit.routes import RouteMatch

CRITICAL = "critical"
DEFAULT = "default"
DEFAULT_SHARES: Mapping[str, float] = {CRITICAL: 1.0, DEFAULT: 0.8}

SHED = Counter("loadshedder_shed_total", "Requests refused with 503 by the load shedder.", ["route_class"])
IN_FLIGHT = Gauge(
    "loadshedder_in_flight",
    "Requests admitted by the load shedder and not finished.",
    multiprocess_mode="livesum",
)


class LoadShedder:
    """Counts in-flight requests; admits one of class ``c`` only while fewer than ``bound(c)`` are running.

    Pure and synchronous: in asyncio the check and the increment run without an ``await`` between them, so two
    requests can never both take the last slot.
    """

    def __init__(self, max_in_flight: int, shares: Mapping[str, float] = DEFAULT_SHARES) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be >= 1")
        if not shares or any(not 0 < s <= 1 for s in shares.values()):
            raise ValueError("every share must be in (0, 1]")
        self.max_in_flight = max_in_flight
        self.shares = dict(shares)
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def bound(self, route_class: str) -> int:
        """How many requests may be in flight when a request of this class arrives (at least 1)."""
        return max(1, math.floor(self.max_in_flight * self.shares[route_class] + 1e-9))

    def try_acquire(self, route_class: str) -> bool:
        if self._in_flight >= self.bound(route_class):
            return False
        self._in_flight += 1
        return True

    def release(self) -> None:
        if self._in_flight <= 0:
            raise RuntimeError("release() without a matching try_acquire()")
        self._in_flight -= 1


class LoadSheddingMiddleware:
    """Sheds by route class: ``add_middleware(LoadSheddingMiddleware, shedder=s, classes=[(m, "critical")])``.

    Requests matching no class get ``default_class``. Put it *outside* the rate limiter (add it last): when
    the instance is saturated, a refusal here costs microseconds, while a rate-limit decision costs a Redis
    round trip that a request about to be shed should not spend. With ``queue_delay``, non-critical classes
    are also shed while the event loop has a standing queue.
    """

    def __init__(
        self,
        app: ASGIApp,
        shedder: LoadShedder,
        *,
        classes: Sequence[tuple[RouteMatch, str]] = (),
        default_class: str = DEFAULT,
        exempt: Sequence[RouteMatch] = (),
        retry_after_s: tuple[int, int] = (1, 3),
        queue_delay: LoopLagProbe | None = None,
    ) -> None:
        if not 0 <= retry_after_s[0] <= retry_after_s[1]:
            raise ValueError("retry_after_s must be a (low, high) range of whole seconds, 0 <= low <= high")
        unknown = ({c for _, c in classes} | {default_class}) - shedder.shares.keys()
        if unknown:
            raise ValueError(f"route classes without a share: {sorted(unknown)}")
        self.app = app
        self.shedder = shedder
        self.classes = tuple(classes)
        self.default_class = default_class
        self.exempt = tuple(exempt)
        self.retry_after_s = retry_after_s
        self.queue_delay = queue_delay
        self._delay_sheddable = frozenset(c for c, share in shedder.shares.items() if share < 1)
        self._shed_counters = {c: SHED.labels(c) for c in shedder.shares}
        # one ready refusal per Retry-After value: a random delay in a small range, so shed clients do not all
        # come back in the same second
        message = "the service is overloaded; retry after the delay in Retry-After"
        low, high = retry_after_s
        self._refusals = [
            Refusal(503, "overloaded", message, {"Retry-After": str(s)}) for s in range(low, high + 1)
        ]

    def classify(self, scope: Scope) -> str:
        return next((c for match, c in self.classes if match.matches(scope)), self.default_class)

    def _admit(self, route_class: str) -> bool:
        probe = self.queue_delay
        if probe is not None:
            probe.ensure_running()
            if probe.overloaded and route_class in self._delay_sheddable:
                return False
        return self.shedder.try_acquire(route_class)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(m.matches(scope) for m in self.exempt):
            await self.app(scope, receive, send)
            return
        route_class = self.classify(scope)
        if not self._admit(route_class):
            self._shed_counters[route_class].inc()
            await random.choice(self._refusals).send(scope, send)
            return
        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.shedder.release()
            IN_FLIGHT.dec()
