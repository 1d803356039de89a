"""The four algorithms as pure functions: state and time in, a reply and the next state out.

Each module here is the Python twin of one Lua script in ``ratelimit/lua/``: the same arithmetic on the same
integer microseconds, returning the same reply ``(allowed, remaining, reset_after_us, retry_after_us)``. The
in-memory backend runs these; the Redis backend runs the scripts; one parametrised test suite holds both to
the same behaviour. Keeping the maths free of I/O is what lets the property tests drive time by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ratelimit.algorithms import fixed_window, gcra, sliding_window_counter, sliding_window_log
from ratelimit.algorithms.common import Reply, Step, Window, check_cost, decision_from_reply
from ratelimit.decision import Algorithm

Decide = Callable[[Any, int, Window, int], Step[Any]]


class Twin(NamedTuple):
    decide: Decide
    max_reset_after_us: Callable[[Window], int]  # the documented bound on Decision.reset_after


TWINS: dict[Algorithm, Twin] = {
    "fixed_window": Twin(fixed_window.decide, fixed_window.max_reset_after_us),
    "sliding_window_log": Twin(sliding_window_log.decide, sliding_window_log.max_reset_after_us),
    "sliding_window_counter": Twin(sliding_window_counter.decide, sliding_window_counter.max_reset_after_us),
    "gcra": Twin(gcra.decide, gcra.max_reset_after_us),
}

__all__ = ["TWINS", "Reply", "Step", "Twin", "Window", "check_cost", "decision_from_reply"]
