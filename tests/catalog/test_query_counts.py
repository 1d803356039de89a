"""The N+1, counted: v1's statements grow with the playlist, v2's stay constant (SQLAlchemy events)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from catalog.service import create_app
from catalog.tokens import SigningKey, TokenIssuer
from tests.catalog.support import Seeded, bearer, counting, fetch, serve, settings_for

pytestmark = pytest.mark.integration


def _public_playlists_of_sizes(seeded: Seeded) -> list[tuple[int, int]]:
    """(id, length) of a short, a medium and the longest public playlists."""
    rows = fetch(
        seeded,
        "SELECT p.id, count(*) FROM playlists p JOIN playlist_tracks t ON t.playlist_id = p.id "
        "WHERE p.is_public GROUP BY p.id ORDER BY count(*), p.id",
    )
    picks = [rows[0], rows[len(rows) // 2], rows[-1]]
    assert picks[0][1] * 10 <= picks[-1][1], f"need a wide spread of sizes, got {picks}"
    return [(int(i), int(n)) for i, n in picks]


async def _statements_per_request(app: FastAPI, url: str, headers: dict[str, str]) -> int:
    async with serve(app) as client:
        with counting(app) as statements:
            response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
    return statements.count


async def test_v2_sends_the_same_number_of_queries_whatever_the_playlist_size(
    seeded: Seeded, signing_key: SigningKey, issuer: TokenIssuer
) -> None:
    """Cold cache each time (a fresh app): 2 statements for 10 tracks and for hundreds."""
    counts = []
    for playlist_id, _size in _public_playlists_of_sizes(seeded):
        app = create_app(settings_for(seeded, signing_key))
        counts.append(await _statements_per_request(app, f"/v2/playlists/{playlist_id}", bearer(issuer, 1)))
    assert counts == [2, 2, 2]


async def test_v1_sends_more_queries_the_longer_the_playlist(
    seeded: Seeded, signing_key: SigningKey, issuer: TokenIssuer
) -> None:
    sizes_and_counts = []
    for playlist_id, size in _public_playlists_of_sizes(seeded):
        app = create_app(settings_for(seeded, signing_key))
        count = await _statements_per_request(app, f"/v1/playlists/{playlist_id}", bearer(issuer, 1))
        sizes_and_counts.append((size, count))
    counts = [count for _size, count in sizes_and_counts]
    assert counts == sorted(counts), sizes_and_counts
    assert counts[0] < counts[-1], sizes_and_counts
    longest_size, longest_count = sizes_and_counts[-1]
    assert longest_count > longest_size / 2, "at least one query per distinct track: the N+1"


async def test_a_cached_v2_playlist_costs_no_query_at_all(
    seeded: Seeded, signing_key: SigningKey, issuer: TokenIssuer
) -> None:
    app = create_app(settings_for(seeded, signing_key))
    playlist_id = _public_playlists_of_sizes(seeded)[-1][0]
    async with serve(app) as client:
        await client.get(f"/v2/playlists/{playlist_id}", headers=bearer(issuer, 1))
        with counting(app) as statements:
            assert (
                await client.get(f"/v2/playlists/{playlist_id}", headers=bearer(issuer, 1))
            ).status_code == 200
    assert statements.count == 0


@pytest.mark.parametrize("url", ["/v2/tracks?limit=100", "/v2/me/library?limit=100"])
async def test_a_v2_page_is_one_query_however_long(
    seeded: Seeded, signing_key: SigningKey, issuer: TokenIssuer, url: str
) -> None:
    app = create_app(settings_for(seeded, signing_key))
    assert await _statements_per_request(app, url, bearer(issuer, 20)) == 1
