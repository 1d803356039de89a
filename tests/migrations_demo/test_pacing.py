"""How a backfill paces itself: pure arithmetic, no database."""

from __future__ import annotations

import pytest

from migrations_demo.backfill import Pacing

pytestmark = pytest.mark.unit


def test_a_batch_slower_than_the_target_shrinks_the_next_one_in_proportion() -> None:
    pacing = Pacing(1000, target_batch_ms=50.0, min_batch_size=100)
    assert pacing.next_size(1000, 0.100) == 500  # twice the target: half the rows
    assert pacing.next_size(1000, 10.0) == 100  # never below the floor


def test_a_quick_batch_grows_the_next_one_by_at_most_a_fifth_up_to_the_cap() -> None:
    pacing = Pacing(1000, target_batch_ms=50.0)
    assert pacing.next_size(200, 0.001) == 240
    assert pacing.next_size(900, 0.001) == 1000


def test_fixed_pacing_keeps_its_size_and_sleeps_only_its_pause() -> None:
    pacing = Pacing.fixed(250, pause_s=0.2)
    assert pacing.next_size(250, 9.0) == 250
    assert pacing.sleep_after(9.0) == 0.2
    assert pacing.max_active is None


def test_the_nice_ratio_sleeps_in_proportion_to_the_batch() -> None:
    assert Pacing(1000, pause_s=0.01, nice_ratio=2.0).sleep_after(0.03) == pytest.approx(0.07)


def test_settings_feed_the_pacing_and_zero_turns_a_throttle_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATIONS_BACKFILL_NICE_RATIO", "3")
    monkeypatch.setenv("MIGRATIONS_BACKFILL_TARGET_BATCH_MS", "0")
    monkeypatch.setenv("MIGRATIONS_BACKFILL_MAX_ACTIVE", "0")
    pacing = Pacing.from_settings()
    assert (pacing.nice_ratio, pacing.target_batch_ms, pacing.max_active) == (3.0, None, None)


@pytest.mark.parametrize(
    "bad",
    [
        {"batch_size": 0},
        {"nice_ratio": -1.0},
        {"pause_s": -0.1},
        {"target_batch_ms": 0.0},
        {"max_active": 0},
    ],
)
def test_nonsense_pacing_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Pacing(**{"batch_size": 100, **bad})  # type: ignore[arg-type]
