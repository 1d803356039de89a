"""The rows of a synthetic catalogue, generated deterministically from a ``SeedSpec`` (pure, no I/O).

Rows come out column-wise, in chunks, as numpy arrays (numbers, booleans, timestamps as epoch microseconds,
dates as days since 1970) or lists of strings, so a million rows take a fraction of a second to make and
``seed.py`` can write them straight into ``COPY``. Each table draws from its own random stream (PCG64 seeded
with ``[seed, table]``): a table depends only on the spec. Every foreign key points at a row of a table
generated before it, so loading in ``TABLES`` order keeps referential integrity by construction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

TABLES = ("users", "artists", "albums", "tracks", "playlists", "playlist_tracks", "library_tracks")
CHUNK = 100_000
START = int(dt.datetime(2015, 1, 1, tzinfo=dt.UTC).timestamp() * 1_000_000)
SPAN = 10 * 365 * 86_400 * 1_000_000  # ten years of microseconds
DAY = 86_400 * 1_000_000
Array = np.ndarray[Any, Any]
Column = Array | list[str]
Chunk = dict[str, Column]

_WORD_TEXT = (
    "blue night river echo gold velvet neon wild silent paper ghost summer electric glass honey iron lunar "
    "ocean static crimson hollow mirror satellite thunder violet winter ember signal golden hazy"
)
_WORDS = np.array(_WORD_TEXT.title().split())
_FIRST = np.array(
    [
        "Ada",
        "Bo",
        "Cleo",
        "Dev",
        "Eli",
        "Fay",
        "Gus",
        "Hana",
        "Ivo",
        "Juno",
        "Kai",
        "Lea",
        "Milo",
        "Nia",
        "Otto",
        "Pia",
        "Rex",
        "Sol",
        "Tess",
        "Uma",
    ]
)
_COUNTRIES = np.array(["SE", "GB", "US", "DE", "FR", "BR", "JP", "NG", "IN", "MX", "KR", "AU", "CA", "ES"])
_LABELS = np.array(["Northern Lights Records", "Paper Moon", "Static Age", "Golden Hour Music", "Iron Bird"])
_LOREM = (
    "Formed in a basement studio, the project grew from late-night sessions into a touring act known for "
    "dense arrangements, field recordings and a restless approach to genre. Critics point to the second "
    "record as the turning point: warmer, stranger, and built around live takes. "
) * 4


@dataclass(frozen=True)
class SeedSpec:
    tracks: int = 1_000_000
    playlists: int = 100_000
    users: int = 50_000
    seed: int = 4
    hero_every: int = 100  # every N-th playlist (and user) is a benchmark target
    hero_size: int = 1000  # tracks in each hero playlist; hero users save half as many
    max_playlist: int = 5000
    min_playlist: int = 10

    @property
    def artists(self) -> int:
        return max(1, self.tracks // 50)

    @property
    def albums(self) -> int:
        return max(1, self.tracks // 10)


# column kinds: "i8"/"i4" integers, "bool", "ts" (epoch microseconds), "date" (days since 1970), "str"
LAYOUT: dict[str, tuple[tuple[str, str], ...]] = {
    "users": (("id", "i8"), ("handle", "str"), ("display_name", "str"), ("created_at", "ts")),
    "artists": (("id", "i8"), ("name", "str"), ("country", "str"), ("bio", "str")),
    "albums": (
        ("id", "i8"),
        ("artist_id", "i8"),
        ("title", "str"),
        ("label", "str"),
        ("cover_url", "str"),
        ("released_on", "date"),
    ),
    "tracks": (
        ("id", "i8"),
        ("album_id", "i8"),
        ("artist_id", "i8"),
        ("title", "str"),
        ("duration_ms", "i4"),
        ("explicit", "bool"),
        ("popularity", "i4"),
        ("isrc", "str"),
        ("preview_url", "str"),
        ("released_at", "ts"),
    ),
    "playlists": (
        ("id", "i8"),
        ("owner_id", "i8"),
        ("name", "str"),
        ("description", "str"),
        ("is_public", "bool"),
        ("created_at", "ts"),
        ("updated_at", "ts"),
    ),
    "playlist_tracks": (("playlist_id", "i8"), ("position", "i4"), ("track_id", "i8"), ("added_at", "ts")),
    "library_tracks": (("user_id", "i8"), ("track_id", "i8"), ("saved_at", "ts")),
}


@dataclass(frozen=True)
class TableRows:
    name: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    chunks: Iterator[Chunk]


def _rng(spec: SeedSpec, stream: str) -> np.random.Generator:
    return np.random.default_rng([spec.seed, sum(map(ord, stream)) * 131 + len(stream)])


def playlist_sizes(spec: SeedSpec) -> Array:
    """Pareto (alpha 1.2) lengths from ``min_playlist``, capped at ``max_playlist``; heroes: ``hero_size``."""
    raw = spec.min_playlist / _rng(spec, "playlist_sizes").random(spec.playlists) ** (1 / 1.2)
    sizes = np.clip(raw.astype(np.int64), spec.min_playlist, spec.max_playlist)
    sizes[np.arange(1, spec.playlists + 1) % spec.hero_every == 0] = spec.hero_size
    return sizes


def library_sizes(spec: SeedSpec) -> Array:
    raw = 5 / _rng(spec, "library_sizes").random(spec.users) ** (1 / 1.5)
    sizes = np.clip(raw.astype(np.int64), 1, min(2000, spec.tracks))
    sizes[np.arange(1, spec.users + 1) % spec.hero_every == 0] = min(spec.hero_size // 2, spec.tracks)
    return sizes


def expected_rows(spec: SeedSpec) -> dict[str, int]:
    return {
        "users": spec.users,
        "artists": spec.artists,
        "albums": spec.albums,
        "tracks": spec.tracks,
        "playlists": spec.playlists,
        "playlist_tracks": int(playlist_sizes(spec).sum()),
        "library_tracks": int(library_sizes(spec).sum()),
    }


def _words(rng: np.random.Generator, n: int) -> list[str]:
    first, second = _WORDS[rng.integers(0, len(_WORDS), n)], _WORDS[rng.integers(0, len(_WORDS), n)]
    return [f"{a} {b}" for a, b in zip(first.tolist(), second.tolist(), strict=True)]


def _ranges(total: int) -> Iterator[Array]:
    for start in range(1, total + 1, CHUNK):
        yield np.arange(start, min(start + CHUNK, total + 1), dtype=np.int64)


def _users(spec: SeedSpec) -> Iterator[Chunk]:
    rng = _rng(spec, "users")
    for ids in _ranges(spec.users):
        first = _FIRST[rng.integers(0, len(_FIRST), len(ids))].tolist()
        names = [f"{f} {w}" for f, w in zip(first, _WORDS[ids % len(_WORDS)].tolist(), strict=True)]
        yield {
            "id": ids,
            "handle": [f"user{i}" for i in ids.tolist()],
            "display_name": names,
            "created_at": START + ids * 1_000_000,
        }


def _artists(spec: SeedSpec) -> Iterator[Chunk]:
    rng = _rng(spec, "artists")
    for ids in _ranges(spec.artists):
        starts, lengths = rng.integers(0, 200, len(ids)).tolist(), rng.integers(300, 600, len(ids)).tolist()
        yield {
            "id": ids,
            "name": _words(rng, len(ids)),
            "country": _COUNTRIES[rng.integers(0, len(_COUNTRIES), len(ids))].tolist(),
            "bio": [_LOREM[s : s + n] for s, n in zip(starts, lengths, strict=True)],
        }


def _album_artists(spec: SeedSpec) -> Array:
    return _rng(spec, "album_artists").integers(1, spec.artists + 1, spec.albums)


def _albums(spec: SeedSpec) -> Iterator[Chunk]:
    rng = _rng(spec, "albums")
    artists = _album_artists(spec)
    for ids in _ranges(spec.albums):
        yield {
            "id": ids,
            "artist_id": artists[ids - 1],
            "title": _words(rng, len(ids)),
            "label": _LABELS[ids % len(_LABELS)].tolist(),
            "cover_url": [f"https://img.example.com/covers/{i}.jpg" for i in ids.tolist()],
            "released_on": (START + rng.integers(0, SPAN, len(ids))) // DAY,
        }


def _tracks(spec: SeedSpec) -> Iterator[Chunk]:
    rng = _rng(spec, "tracks")
    album_artist = _album_artists(spec)
    for ids in _ranges(spec.tracks):
        n = len(ids)
        albums = rng.integers(1, spec.albums + 1, n)
        titles = [f"{t} {i}" for t, i in zip(_words(rng, n), ids.tolist(), strict=True)]
        yield {
            "id": ids,
            "album_id": albums,
            "artist_id": album_artist[albums - 1],
            "title": titles,
            "duration_ms": rng.integers(90_000, 420_000, n),
            "explicit": rng.random(n) < 0.15,
            "popularity": (100 * rng.random(n) ** 3).astype(np.int64),
            "isrc": [f"QZ{i:010d}" for i in ids.tolist()],
            "preview_url": [f"https://cdn.example.com/previews/{i}.mp3" for i in ids.tolist()],
            "released_at": START + rng.integers(0, SPAN, n),
        }


def _playlists(spec: SeedSpec) -> Iterator[Chunk]:
    rng = _rng(spec, "playlists")
    for ids in _ranges(spec.playlists):
        n = len(ids)
        names = _words(rng, n)
        created = START + rng.integers(0, SPAN, n)
        yield {
            "id": ids,
            "owner_id": rng.integers(1, spec.users + 1, n),
            "name": names,
            "description": [f"{name}, for you" for name in names],
            "is_public": (rng.random(n) < 0.7) | (ids % spec.hero_every == 0),
            "created_at": created,
            "updated_at": created + 3_600_000_000,
        }


def _grouped(sizes: Array, budget: int = CHUNK) -> Iterator[tuple[Array, Array]]:
    """(owner ids, sizes) in groups of about ``budget`` rows."""
    ends = np.cumsum(sizes)
    start = 0
    while start < len(sizes):
        base = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + budget, side="right")))
        yield np.arange(start + 1, stop + 1, dtype=np.int64), sizes[start:stop]
        start = stop


def _playlist_tracks(spec: SeedSpec) -> Iterator[Chunk]:
    rng = _rng(spec, "playlist_tracks")
    pool = START + rng.integers(0, SPAN, 50_000)
    for ids, sizes in _grouped(playlist_sizes(spec)):
        total = int(sizes.sum())
        starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
        # popular tracks (low ids) show up far more often, as in real playlists
        tracks = 1 + (spec.tracks * rng.random(total) ** 2).astype(np.int64)
        yield {
            "playlist_id": np.repeat(ids, sizes),
            "position": np.arange(total) - starts,
            "track_id": np.minimum(tracks, spec.tracks),
            "added_at": pool[rng.integers(0, len(pool), total)],
        }


def _library_tracks(spec: SeedSpec) -> Iterator[Chunk]:
    """Distinct tracks per user without rejection: ``first + j * stride (mod tracks)``, stride coprime."""
    rng = _rng(spec, "library_tracks")
    pool = START + rng.integers(0, SPAN, 200_000)
    stride = next(p for p in (1_000_003, 999_983, 7_919, 1) if spec.tracks % p or p == 1)
    for ids, sizes in _grouped(library_sizes(spec)):
        total = int(sizes.sum())
        j = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        first = np.repeat(rng.integers(0, spec.tracks, len(ids)), sizes)
        yield {
            "user_id": np.repeat(ids, sizes),
            "track_id": 1 + (first + j * stride) % spec.tracks,
            "saved_at": pool[rng.integers(0, len(pool), total)],
        }


_GENERATORS: dict[str, Callable[[SeedSpec], Iterator[Chunk]]] = {
    "users": _users,
    "artists": _artists,
    "albums": _albums,
    "tracks": _tracks,
    "playlists": _playlists,
    "playlist_tracks": _playlist_tracks,
    "library_tracks": _library_tracks,
}


def table_rows(spec: SeedSpec) -> Iterator[TableRows]:
    """Every table, in foreign-key order, as lazily generated column chunks."""
    for name in TABLES:
        layout = LAYOUT[name]
        yield TableRows(
            name, tuple(c for c, _ in layout), tuple(k for _, k in layout), _GENERATORS[name](spec)
        )
