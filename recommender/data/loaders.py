"""Readers for the three input formats; a bad file fails with a message naming the file and the line.

- HetRec 2011 Last.fm 2K ``user_artists.dat``: a header ``userID<TAB>artistID<TAB>weight``, then one row per
  (user, artist) with the listen count (Cantador, Brusilovsky, Kuflik, HetRec 2011).
- MovieLens ``u.data``: ``user<TAB>item<TAB>rating<TAB>timestamp``, no header; each rating counts as one
  interaction (we use the *fact* of the rating as implicit feedback, not its value).
- CSV ``user,item,count`` with an optional header row of exactly those names.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from recommender.data.interactions import Interactions, from_triples

Format = Literal["lastfm", "movielens", "csv"]
FORMATS: tuple[Format, ...] = ("lastfm", "movielens", "csv")


class DataFormatError(ValueError):
    """The input file is not in the expected format; the message says where."""


def _where(path: Path, line: int) -> str:
    return f"{path}, line {line}"


def _count(path: Path, line: int, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(f"{_where(path, line)}: count {text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise DataFormatError(f"{_where(path, line)}: count {text!r} must be a positive number")
    return value


def _build(path: Path, rows: Iterable[tuple[str, str, float]], name: str) -> Interactions:
    users: list[str] = []
    items: list[str] = []
    counts: list[float] = []
    for user, item, count in rows:
        users.append(user)
        items.append(item)
        counts.append(count)
    if not counts:
        raise DataFormatError(f"{path}: no interactions (the file is empty or has only a header)")
    return from_triples(users, items, counts, name=name)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered, stripped, non-blank lines; CRLF (as HetRec ships) and LF both work."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if line:
                yield number, line


def _tab_rows(path: Path, fields: int, header: tuple[str, ...] | None) -> Iterator[tuple[str, str, float]]:
    for number, line in _lines(path):
        parts = line.split("\t")
        if header is not None and number == 1:
            if tuple(p.strip() for p in parts) != header:
                raise DataFormatError(f"{_where(path, number)}: expected the header {'<TAB>'.join(header)!r}")
            continue
        if len(parts) != fields:
            raise DataFormatError(
                f"{_where(path, number)}: expected {fields} tab-separated columns, found {len(parts)}"
            )
        user, item = parts[0].strip(), parts[1].strip()
        if not user or not item:
            raise DataFormatError(f"{_where(path, number)}: empty user or item id")
        value = _count(path, number, parts[2])  # a MovieLens rating must be a number too: corrupt rows fail
        yield user, item, (value if header is not None else 1.0)


def load_lastfm(path: Path) -> Interactions:
    """HetRec Last.fm ``user_artists.dat``: listen counts per (user, artist)."""
    return _build(path, _tab_rows(path, 3, ("userID", "artistID", "weight")), name="hetrec2011-lastfm-2k")


def load_movielens(path: Path) -> Interactions:
    """MovieLens ``u.data``: every rating is one interaction."""
    return _build(path, _tab_rows(path, 4, None), name="movielens")


def _csv_rows(path: Path) -> Iterator[tuple[str, str, float]]:
    for number, line in _lines(path):
        parts = next(csv.reader([line]))
        if number == 1 and [p.strip().lower() for p in parts] == ["user", "item", "count"]:
            continue
        if len(parts) != 3:
            raise DataFormatError(
                f"{_where(path, number)}: expected 3 columns user,item,count, found {len(parts)}"
            )
        user, item = parts[0].strip(), parts[1].strip()
        if not user or not item:
            raise DataFormatError(f"{_where(path, number)}: empty user or item id")
        yield user, item, _count(path, number, parts[2].strip())


def load_csv(path: Path) -> Interactions:
    """CSV ``user,item,count`` (optional header)."""
    return _build(path, _csv_rows(path), name=path.stem)


def load(path: Path, fmt: Format) -> Interactions:
    """Load ``path`` in format ``fmt`` (``lastfm``, ``movielens`` or ``csv``)."""
    loaders = {"lastfm": load_lastfm, "movielens": load_movielens, "csv": load_csv}
    if fmt not in loaders:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return loaders[fmt](Path(path))
