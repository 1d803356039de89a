"""The generated history is deterministic, skewed like real listening, and in time order per user."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import Counter

import pytest

from datastores.workload import WorkloadSpec, generate

pytestmark = pytest.mark.unit

SPEC = WorkloadSpec(plays=5_000, users=300, tracks=1_000, weeks=2, seed=1)


def test_the_same_seed_gives_the_same_plays_and_another_seed_others() -> None:
    assert generate(SPEC).plays == generate(SPEC).plays
    assert generate(SPEC).plays != generate(dataclasses.replace(SPEC, seed=2)).plays


def test_times_strictly_increase_and_stay_inside_the_weeks() -> None:
    plays = generate(SPEC).plays
    times = [p.played_at for p in plays]
    assert all(a < b for a, b in itertools.pairwise(times))
    assert times[0] == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert times[-1] < dt.datetime(2024, 1, 15, tzinfo=dt.UTC)


def test_each_user_lives_in_one_country() -> None:
    workload = generate(SPEC)
    assert all(p.country == workload.country_of[p.user_id] for p in workload.plays)
    assert len(workload.countries) > 3


def test_track_popularity_is_heavy_tailed_and_the_ranking_says_which_tracks_are_hits() -> None:
    workload = generate(SPEC)
    plays_per_track = Counter(p.track_id for p in workload.plays)
    top = plays_per_track.most_common(1)[0][1]
    assert top > 20 * (SPEC.plays / SPEC.tracks), "the hit is far above the average track"
    hits = workload.tracks_by_popularity[:3]
    assert plays_per_track.most_common(1)[0][0] in hits
    assert workload.hit_pairs(2) == [(hits[0], hits[1]), (hits[1], hits[2])]


def test_a_spec_must_start_on_a_monday_and_fit_its_plays_in_milliseconds() -> None:
    with pytest.raises(ValueError, match="Monday"):
        WorkloadSpec(plays=1, users=1, tracks=1, first_week=dt.date(2024, 1, 2))
    with pytest.raises(ValueError, match="milliseconds"):
        WorkloadSpec(plays=10**10, users=1, tracks=1, weeks=1)
    assert SPEC.last_week == dt.date(2024, 1, 8)
