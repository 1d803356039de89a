"""The one small interface every rate-limit algorithm and backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Algorithm = Literal["fixed_window", "sliding_window_log", "sliding_window_counter", "gcra"]
ALGORITHMS: tuple[Algorithm, ...] = ("fixed_window", "sliding_window_log", "sliding_window_counter", "gcra")


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``limit`` cost units per ``period`` seconds (GCRA: a burst of ``limit``, refilled evenly)."""

    limit: int
    period: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0:
            raise ValueError(f"a limit needs limit >= 1 and period > 0, got {self.limit}/{self.period}s")


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one ``hit``; times are seconds from now."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float  # until the key is back to its full allowance
    retry_after: float  # until a request of this cost would be admitted (0 when allowed)


class Limiter(Protocol):
    """``await limiter.hit(key, cost)`` admits or refuses ``cost`` units for ``key`` atomically."""

    limit: Limit

    async def hit(self, key: str, cost: int = 1) -> Decision: ...
