"""The fast lane answers exactly what the FastAPI route would, and leaves every other request to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.fast_route import canonical_k
from tests.recommender.serving_support import serving, settings


@pytest.mark.unit
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", 10),
        (b"k=5", 5),
        (b"k=010", 10),
        (b"k=100", 100),
        (b"k=0", None),
        (b"k=101", None),
        (b"k=5&k=6", None),
        (b"k=5&seed_items=1", None),
        (b"k=%35", None),
        (b"k=-1", None),
        (b"x=1", None),
    ],
)
def test_only_an_unambiguous_k_takes_the_fast_lane(query: bytes, expected: int | None) -> None:
    """Anything but nothing or one in-range ``k=<digits>`` is left to FastAPI (None)."""
    assert canonical_k(query, 10) == expected


@pytest.mark.integration
async def test_the_fast_lane_gives_the_fastapi_routes_bytes_and_headers(served_models: Path) -> None:
    """Same user and k through the lane and through FastAPI (an extra parameter forces it): same answer."""
    async with serving(settings(served_models, cache_enabled=False)) as (_app, client):
        fast = await client.get("/users/3/recommendations?k=7")
        slow = await client.get("/users/3/recommendations?k=7&unused=1")
        default = await client.get("/users/3/recommendations")
        default_slow = await client.get("/users/3/recommendations?k=10&unused=1")
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    assert default.content == default_slow.content
    assert len(fast.json()["items"]) == 7
    for name in ("content-type", "content-length", "x-cache"):
        assert fast.headers[name] == slow.headers[name], name


@pytest.mark.integration
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/users/3/recommendations?k=0", 422),
        ("GET", "/users/3/recommendations?k=abc", 422),
        ("GET", "/users/bad%20id/recommendations", 422),
        ("POST", "/users/3/recommendations", 405),
    ],
)
async def test_requests_the_lane_refuses_get_the_fastapi_routes_answer(
    served_models: Path, method: str, path: str, status: int
) -> None:
    """Invalid input still gets FastAPI's validation and the error envelope, not a lane-specific answer."""
    async with serving(settings(served_models)) as (_app, client):
        response = await client.request(method, path)
    assert response.status_code == status
    if status == 422:
        assert response.json()["error"]["code"]
