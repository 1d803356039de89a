"""Key names: every key of one identity shares one hash slot, whatever the identity contains."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from ratelimit.decision import ALGORITHMS
from ratelimit.keys import check_prefix, redis_keys

TRICKY_IDENTITIES = ["alice", "a}b", "{", "}", "{}", "}{", "%7B", "user:{42}", "ünïcödé", " ", "x" * 300]


def slots(keys: tuple[str, ...]) -> set[int]:
    return {key_slot(k.encode()) for k in keys}


@pytest.mark.unit
@pytest.mark.parametrize("identity", TRICKY_IDENTITIES)
def test_the_keys_of_one_identity_share_one_slot_for_every_algorithm(identity: str) -> None:
    all_keys = tuple(k for algorithm in ALGORITHMS for k in redis_keys("ratelimit:", algorithm, identity))
    assert len(slots(all_keys)) == 1


@pytest.mark.unit
def test_escaping_keeps_distinct_identities_apart() -> None:
    names = {redis_keys("rl:", "gcra", identity) for identity in TRICKY_IDENTITIES}
    assert len(names) == len(TRICKY_IDENTITIES)


@pytest.mark.unit
def test_a_tagged_prefix_keeps_every_identity_in_the_prefix_slot() -> None:
    """Tests tag their prefix, so one test's keys stay together on a cluster."""
    keys = tuple(
        k
        for identity in TRICKY_IDENTITIES
        for k in redis_keys("{t_abc}:", "sliding_window_counter", identity)
    )
    assert slots(keys) == {key_slot(b"t_abc")}


@pytest.mark.unit
def test_an_untagged_prefix_spreads_identities_over_slots() -> None:
    keys = tuple(k for n in range(50) for k in redis_keys("rl:", "gcra", f"user-{n}"))
    assert len(slots(keys)) > 40


@pytest.mark.unit
def test_an_empty_identity_or_an_empty_tag_in_the_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="must name someone"):
        redis_keys("rl:", "gcra", "")
    with pytest.raises(ValueError, match="empty hash tag"):
        check_prefix("rl:{}:")
    assert check_prefix("rl:{tenant}:") == "rl:{tenant}:"
