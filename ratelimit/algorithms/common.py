"""Types shared by the algorithm twins and the Redis backend: a limit in microseconds, a reply, a step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from ratelimit.decision import Decision, Limit

S = TypeVar("S")
US_PER_S = 1_000_000


@dataclass(frozen=True, slots=True)
class Window:
    """A ``Limit`` in whole microseconds: what the Lua scripts receive as ``ARGV``."""

    limit: int
    period_us: int

    @classmethod
    def of(cls, limit: Limit) -> Window:
        return cls(limit.limit, max(1, round(limit.period * US_PER_S)))


class Reply(NamedTuple):
    """What every script returns: ``{allowed, remaining, reset_after_us, retry_after_us}``."""

    allowed: bool
    remaining: int
    reset_after_us: int
    retry_after_us: int

    @classmethod
    def admit(cls, remaining: int, reset_after_us: int) -> Reply:
        return cls(allowed=True, remaining=remaining, reset_after_us=reset_after_us, retry_after_us=0)

    @classmethod
    def refuse(cls, remaining: int, reset_after_us: int, retry_after_us: int) -> Reply:
        return cls(
            allowed=False, remaining=remaining, reset_after_us=reset_after_us, retry_after_us=retry_after_us
        )


class Step(NamedTuple, Generic[S]):
    """One decision of a twin: the reply, the key's state afterwards and when that state may be forgotten."""

    reply: Reply
    state: S | None  # None: nothing is stored for the key
    expires_at_us: int


def decision_from_reply(limit: int, reply: Reply | list[int]) -> Decision:
    allowed, remaining, reset_after_us, retry_after_us = reply
    return Decision(bool(allowed), limit, remaining, reset_after_us / US_PER_S, retry_after_us / US_PER_S)


def check_cost(cost: int, limit: Limit) -> None:
    """A cost is whole units, at least one, and at most the whole limit (more could never be admitted)."""
    if not 1 <= cost <= limit.limit:
        raise ValueError(f"cost must be between 1 and the limit ({limit.limit}), got {cost}")
