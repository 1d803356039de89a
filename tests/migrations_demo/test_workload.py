from __future__ import annotations

from collections import Counter

import pytest

from migrations_demo.workload import APP_VERSIONS, RequestMix, Sizes

pytestmark = pytest.mark.unit


def test_the_mix_is_about_half_inserts_40_percent_reads_10_percent_updates() -> None:
    mix = RequestMix(Sizes(10_000), seed=1)
    ops = Counter(mix.next(("v1",)).op for _ in range(20_000))
    assert abs(ops["insert"] / 20_000 - 0.5) < 0.02
    assert abs(ops["read"] / 20_000 - 0.4) < 0.02
    assert abs(ops["update"] / 20_000 - 0.1) < 0.02


def test_the_same_seed_gives_the_same_requests() -> None:
    first = [RequestMix(Sizes(1000), seed=7).next(("v1",)) for _ in range(1)]
    a, b = RequestMix(Sizes(1000), seed=7), RequestMix(Sizes(1000), seed=7)
    assert [a.next(("v1", "v2")) for _ in range(200)] == [b.next(("v1", "v2")) for _ in range(200)]
    assert first[0] == RequestMix(Sizes(1000), seed=7).next(("v1",))


def test_reads_and_updates_only_touch_seeded_rows_so_inserted_rows_are_written_once() -> None:
    sizes = Sizes(500)
    mix = RequestMix(sizes, seed=3)
    for _ in range(2000):
        request = mix.next(("v1",))
        if request.op != "insert":
            assert 1 <= request.args[0] <= sizes.rows
        else:
            assert 1 <= request.args[1] <= sizes.tracks  # a real track: the foreign key holds


def test_a_rolling_deploy_sends_requests_from_both_versions() -> None:
    mix = RequestMix(Sizes(1000), seed=5)
    versions = Counter(mix.next(("v1", "v2")).version for _ in range(1000))
    assert set(versions) == {"v1", "v2"}
    assert min(versions.values()) > 400


def test_v1_knows_only_the_old_column_v3_only_the_new_and_v2_reads_new_writes_both() -> None:
    v1, v2, v3 = APP_VERSIONS["v1"], APP_VERSIONS["v2"], APP_VERSIONS["v3"]
    assert all("played_ms" not in q for q in (v1.insert, v1.read, v1.update))
    assert all("ms_played" not in q for q in (v3.insert, v3.read, v3.update))
    assert "played_ms" in v2.read
    assert "ms_played" not in v2.read
    assert "ms_played" in v2.insert
    assert "played_ms" in v2.insert
