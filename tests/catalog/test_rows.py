"""The generator is deterministic and draws the shapes the benchmark relies on."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.rows import SeedSpec, expected_rows, library_sizes, playlist_sizes, table_rows

pytestmark = pytest.mark.unit

SPEC = SeedSpec(tracks=5000, playlists=2000, users=300, hero_every=50, hero_size=400, max_playlist=1000)


def _materialise(spec: SeedSpec) -> dict[str, dict[str, list[object]]]:
    tables: dict[str, dict[str, list[object]]] = {}
    for table in table_rows(spec):
        columns: dict[str, list[object]] = {c: [] for c in table.columns}
        for chunk in table.chunks:
            for column in table.columns:
                columns[column] += list(np.asarray(chunk[column]).tolist())
        tables[table.name] = columns
    return tables


def test_the_same_spec_gives_the_same_rows() -> None:
    assert _materialise(SPEC) == _materialise(SPEC)


def test_another_seed_gives_other_rows() -> None:
    other = SeedSpec(**{**SPEC.__dict__, "seed": SPEC.seed + 1})
    assert _materialise(SPEC)["playlist_tracks"] != _materialise(other)["playlist_tracks"]


def test_playlist_lengths_span_the_range_and_heroes_have_the_hero_size() -> None:
    sizes = playlist_sizes(SPEC)
    assert sizes.min() == SPEC.min_playlist
    assert sizes.max() == SPEC.max_playlist
    assert np.median(sizes) < 50, "most playlists are short"
    assert (sizes[SPEC.hero_every - 1 :: SPEC.hero_every] == SPEC.hero_size).all()


def test_the_row_counts_are_the_expected_ones_and_every_reference_is_valid() -> None:
    tables = _materialise(SPEC)
    counts = {name: len(next(iter(columns.values()))) for name, columns in tables.items()}
    assert counts == expected_rows(SPEC)
    entries = tables["playlist_tracks"]
    assert min(entries["track_id"]) >= 1  # type: ignore[type-var, operator]
    assert max(entries["track_id"]) <= SPEC.tracks  # type: ignore[type-var, operator]
    assert max(tables["tracks"]["album_id"]) <= SPEC.albums  # type: ignore[type-var, operator]
    library = list(
        zip(tables["library_tracks"]["user_id"], tables["library_tracks"]["track_id"], strict=True)
    )
    assert len(set(library)) == len(library), "a track is saved at most once per user (primary key)"
    assert sum(library_sizes(SPEC)) == len(library)


def test_positions_run_from_zero_within_each_playlist() -> None:
    entries = _materialise(SPEC)["playlist_tracks"]
    previous = [None, *entries["playlist_id"][:-1]]
    first_positions = [p for p, prev in zip(entries["position"], previous, strict=True) if prev is None]
    assert first_positions == [0]
    sizes = playlist_sizes(SPEC)
    assert entries["position"][: sizes[0]] == list(range(sizes[0]))
