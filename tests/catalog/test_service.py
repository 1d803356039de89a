"""Start-up rules: embedded mode works with nothing but SQLite; services mode refuses to run without keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from catalog.service import MissingKeysError, create_app
from catalog.settings import CatalogSettings
from tests.catalog.support import serve

pytestmark = pytest.mark.integration


def _embedded(tmp_path: Path) -> CatalogSettings:
    return CatalogSettings(
        mode="embedded",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'catalog.sqlite3'}",
        redis_url=None,
        embedded_seed_tracks=400,
        embedded_seed_playlists=60,
    )


async def test_embedded_mode_seeds_sqlite_and_mints_dev_tokens_that_the_api_accepts(tmp_path: Path) -> None:
    async with serve(create_app(_embedded(tmp_path))) as client:
        minted = await client.post("/dev/token", json={"user_id": 1})
        assert minted.status_code == 200, minted.text
        headers = {"Authorization": f"Bearer {minted.json()['access_token']}"}
        playlist = "/playlists/50"  # a "hero" playlist of the embedded seed: public, 200 tracks
        v1 = await client.get(f"/v1{playlist}", headers=headers)
        v2 = await client.get(f"/v2{playlist}", headers=headers)
        assert v1.status_code == v2.status_code == 200
        assert v1.json() == v2.json()
        assert v1.json()["track_count"] == 200
        page = await client.get("/v2/tracks?limit=3", headers=headers)
        after = await client.get(f"/v2/tracks?limit=3&cursor={page.json()['page']['next']}", headers=headers)
        offset = await client.get("/v1/tracks?limit=3&offset=3", headers=headers)
        assert after.json()["items"] == offset.json()["items"], "keyset paging works on SQLite too"
        assert (await client.get("/readyz")).status_code == 200


async def test_services_mode_without_keys_refuses_to_start(tmp_path: Path) -> None:
    settings = CatalogSettings(mode="services", database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(MissingKeysError, match="CATALOG_JWKS_URL"):
        create_app(settings)


async def test_with_configured_keys_even_embedded_mode_has_no_dev_token_route(tmp_path: Path) -> None:
    from catalog.tokens import generate_key  # noqa: PLC0415

    settings = CatalogSettings(
        mode="embedded",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'y.db'}",
        jwt_public_key=SecretStr(generate_key().public_pem()),
        embedded_seed_tracks=50,
        embedded_seed_playlists=5,
    )
    async with serve(create_app(settings)) as client:
        assert (await client.post("/dev/token", json={"user_id": 1})).status_code == 404
