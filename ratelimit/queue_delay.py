"""Seeing the queue an in-flight count cannot see: CoDel's standing-queue test on the event loop's lag.

An in-flight bound protects the scarce resource behind the app (its database) but is blind to the CPU: when
the one core is busy, every ready callback waits its turn in the event loop, admitted requests included, and
no counter goes up. That wait is what a probe measures: sleep ``period_s``, see how late the loop woke it up
(the idea of Node's ``toobusy``). CoDel tells a burst from overload (Nichols & Jacobson, "Controlling Queue
Delay", ACM Queue 2012; RFC 8289): a burst drains, so *some* sample in every ``interval_s`` is short; a
standing queue never drains, so the *minimum* delay over a whole interval stays above ``target_s``. Only that
state sheds, and only non-critical routes (see ``ratelimit.shedder``); Facebook applies the same test to its
server queues ("Fail at Scale", ACM Queue 2015).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from prometheus_client import Gauge

STANDING_QUEUE = Gauge(
    "loadshedder_standing_queue",
    "1 while the event loop has had a standing queue (CoDel test on loop lag) for the last interval.",
    multiprocess_mode="livemax",
)

DEFAULT_TARGET_S = 0.010  # CoDel's 5 ms is for packets; a Python loop's ordinary jitter is a few ms
DEFAULT_INTERVAL_S = 0.100  # CoDel's default: about one round trip of work, many probes per interval


class StandingQueue:
    """Pure CoDel decision: ``observe(delay, now)``; ``overloaded`` after a whole interval above target."""

    def __init__(self, target_s: float = DEFAULT_TARGET_S, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        if target_s <= 0 or interval_s <= 0:
            raise ValueError("target_s and interval_s must be positive")
        self.target_s = target_s
        self.interval_s = interval_s
        self.overloaded = False
        self._window_start: float | None = None
        self._window_min = math.inf

    def observe(self, delay_s: float, now: float) -> None:
        if self._window_start is None:
            self._window_start = now
        self._window_min = min(self._window_min, delay_s)
        if now - self._window_start >= self.interval_s:
            # the verdict holds for the next interval: one slow window sheds, one fast window admits again
            self.overloaded = self._window_min > self.target_s
            STANDING_QUEUE.set(1 if self.overloaded else 0)
            self._window_start, self._window_min = now, math.inf


class LoopLagProbe:
    """Feeds a ``StandingQueue`` with the event loop's lag, measured every ``period_s`` by a background task.

    The task starts on the first request (``ensure_running``), inside the server's loop: nothing runs at
    import or construction time. One wake-up per ``period_s`` costs a few microseconds of that loop.
    """

    def __init__(
        self,
        queue: StandingQueue | None = None,
        *,
        period_s: float = 0.010,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.queue = queue or StandingQueue()
        self.period_s = period_s
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    @property
    def overloaded(self) -> bool:
        return self.queue.overloaded

    def ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag-probe")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            asked = self._clock()
            await asyncio.sleep(self.period_s)
            woke = self._clock()
            self.queue.observe(max(0.0, woke - asked - self.period_s), woke)
