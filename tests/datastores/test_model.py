"""The values both stores answer in: time buckets, millisecond time, the ranking rule, the invariant check."""

from __future__ import annotations

import datetime as dt

import pytest

from datastores.model import (
    FollowerState,
    Play,
    TrackCount,
    epoch_ms,
    from_epoch_ms,
    rank_tracks,
    truncate_ms,
    week_bounds,
    week_start,
)

pytestmark = pytest.mark.unit

UTC = dt.UTC


def test_a_week_starts_on_monday_midnight_utc() -> None:
    assert week_start(dt.datetime(2024, 1, 7, 23, 59, 59, tzinfo=UTC)) == dt.date(2024, 1, 1)
    assert week_start(dt.datetime(2024, 1, 8, 0, 0, tzinfo=UTC)) == dt.date(2024, 1, 8)


def test_the_week_of_a_play_is_decided_in_utc_not_local_time() -> None:
    monday_1am_in_stockholm = dt.datetime(2024, 1, 8, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert week_start(monday_1am_in_stockholm) == dt.date(2024, 1, 1)  # still Sunday 23:00 UTC


def test_week_bounds_cover_seven_days_from_a_monday_and_refuse_other_days() -> None:
    start, end = week_bounds(dt.date(2024, 1, 1))
    assert (start, end - start) == (dt.datetime(2024, 1, 1, tzinfo=UTC), dt.timedelta(days=7))
    with pytest.raises(ValueError, match="Monday"):
        week_bounds(dt.date(2024, 1, 2))


def test_millisecond_time_truncates_and_round_trips() -> None:
    moment = dt.datetime(2024, 1, 1, 12, 0, 0, 123_999, tzinfo=UTC)
    assert epoch_ms(moment) == 1_704_110_400_123
    assert from_epoch_ms(epoch_ms(moment)) == truncate_ms(moment) == moment.replace(microsecond=123_000)
    assert epoch_ms(dt.datetime(1969, 12, 31, 23, 59, 59, 999_500, tzinfo=UTC)) == -1  # floor, not round


def test_a_play_needs_an_aware_time_and_a_two_letter_country() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Play(1, 2, dt.datetime(2024, 1, 1), "SE")  # noqa: DTZ001 - the naive datetime is the point
    with pytest.raises(ValueError, match="alpha-2"):
        Play(1, 2, dt.datetime(2024, 1, 1, tzinfo=UTC), "Sweden")


def test_ranking_puts_most_plays_first_and_breaks_ties_by_lower_track_id() -> None:
    counts = {30: 5, 10: 5, 20: 9, 40: 1}
    assert rank_tracks(counts, limit=3) == [TrackCount(20, 9), TrackCount(10, 5), TrackCount(30, 5)]
    assert rank_tracks({}) == []


def test_the_invariant_holds_when_the_count_equals_the_followers() -> None:
    assert FollowerState(2, frozenset({1, 2})).consistent
    assert not FollowerState(3, frozenset({1, 2})).consistent
