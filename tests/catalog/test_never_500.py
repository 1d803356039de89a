"""Whatever a client sends to the read endpoints (ids, page sizes, offsets, cursors), never a 5xx."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.service import create_app
from catalog.settings import CatalogSettings

pytestmark = pytest.mark.property

ids = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=30)).map(str)
queries = st.dictionaries(
    st.sampled_from(["limit", "offset", "cursor", "extra"]),
    st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), st.text(max_size=80)),
    max_size=3,
)
paths = st.sampled_from(
    [
        "/{v}/playlists/{id}",
        "/{v}/tracks",
        "/{v}/artists/{id}/tracks",
        "/{v}/me/library",
        "/{v}/users/{id}/playlists",
    ]
)


def test_no_path_id_page_size_offset_or_cursor_makes_the_api_answer_5xx(tmp_path: Path) -> None:
    app = create_app(
        CatalogSettings(
            mode="embedded",
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'fuzz.sqlite3'}",
            embedded_seed_tracks=200,
            embedded_seed_playlists=20,
        )
    )
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    )
    token = loop.run_until_complete(client.post("/dev/token", json={"user_id": 3})).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(path=paths, version=st.sampled_from(["v1", "v2"]), object_id=ids, params=queries)
    def answer_is_never_5xx(path: str, version: str, object_id: str, params: dict[str, str]) -> None:
        url = path.format(v=version, id=quote(object_id, safe=""))
        response = loop.run_until_complete(client.get(url, params=params, headers=headers))
        assert response.status_code < 500, (url, params, response.text)
        if response.status_code >= 400:
            assert response.json()["error"]["message"]

    try:
        answer_is_never_5xx()
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(lifespan.__aexit__(None, None, None))
        loop.close()
