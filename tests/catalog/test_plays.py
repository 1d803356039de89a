"""``POST /v2/me/plays`` on real PostgreSQL: the play and its outbox row commit or roll back together (Q9)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest

from catalog.events import FIELDS, PLAYS_TOPIC, play_event
from catalog.rows import SeedSpec
from catalog.seed import seed_postgres
from catalog.service import create_app
from catalog.tokens import SigningKey, TokenIssuer
from tests.catalog.support import Seeded, bearer, fetch, serve, settings_for
from tests.support.isolation import temporary_schema
from tests.support.migrations import upgrade

TINY = SeedSpec(tracks=60, playlists=4, users=5, hero_every=2, hero_size=10, max_playlist=20)
OUTBOX_FAILS = """
CREATE FUNCTION outbox_fails() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'injected: the outbox insert fails after the play insert'; END $$;
CREATE TRIGGER outbox_fails BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_fails();
"""


@pytest.fixture(scope="module")
def plays_db(database_url: str) -> Iterator[Seeded]:
    """A tiny catalogue of this module's own: a test here adds a failing trigger to its outbox."""
    with temporary_schema(database_url) as schema:
        upgrade("catalog", database_url, schema)
        seed_postgres(database_url, schema, TINY)
        yield Seeded(database_url, schema, TINY)


@pytest.fixture
async def plays_client(plays_db: Seeded, signing_key: SigningKey) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings_for(plays_db, signing_key))) as http:
        yield http


def _counts(db: Seeded, user_id: int) -> tuple[int, int]:
    plays = fetch(db, "SELECT count(*) FROM plays WHERE user_id = %s", user_id)[0][0]
    events = fetch(db, "SELECT count(*) FROM outbox WHERE payload->>'user_id' = %s", str(user_id))[0][0]
    return int(plays), int(events)


@pytest.mark.unit
def test_a_play_event_has_exactly_the_contracts_string_fields() -> None:
    event_id = uuid.uuid4()
    played = dt.datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    event = play_event(event_id, 7, 42, played)
    assert tuple(event) == FIELDS
    assert all(isinstance(value, str) for value in event.values())
    assert event == {
        "event_id": str(event_id),
        "user_id": "7",
        "item_id": "42",
        "count": "1",
        "played_at": "2026-01-02T01:04:05.006000Z",
    }


@pytest.mark.integration
async def test_a_play_is_accepted_and_committed_with_its_outbox_event(
    plays_client: httpx.AsyncClient, plays_db: Seeded, issuer: TokenIssuer
) -> None:
    """202 with a uuid4 event id; one play row and one unpublished outbox row carrying the contract fields."""
    response = await plays_client.post("/v2/me/plays", headers=bearer(issuer, 1), json={"track_id": 5})
    assert response.status_code == 202, response.text
    event_id = uuid.UUID(response.json()["event_id"])
    assert event_id.version == 4
    (topic, payload, published_at), *others = fetch(
        plays_db, "SELECT topic, payload, published_at FROM outbox WHERE id = %s", event_id
    )
    assert others == []
    assert topic == PLAYS_TOPIC
    assert published_at is None
    assert payload["event_id"] == str(event_id)
    assert (payload["user_id"], payload["item_id"], payload["count"]) == ("1", "5", "1")
    plays = fetch(plays_db, "SELECT played_at FROM plays WHERE user_id = 1 AND track_id = 5")
    assert [payload["played_at"]] == [
        p[0].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") for p in plays
    ]


@pytest.mark.integration
async def test_when_the_outbox_insert_fails_the_play_is_rolled_back_too(
    plays_client: httpx.AsyncClient, plays_db: Seeded, issuer: TokenIssuer
) -> None:
    """A trigger makes the outbox insert fail after the play insert: the client gets a 500 envelope and
    neither row exists; without the trigger the same request commits both."""
    before = _counts(plays_db, 2)
    with psycopg.connect(plays_db.database_url, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {plays_db.schema}")
        conn.execute(OUTBOX_FAILS.encode())
        try:
            failed = await plays_client.post("/v2/me/plays", headers=bearer(issuer, 2), json={"track_id": 3})
        finally:
            conn.execute(b"DROP TRIGGER outbox_fails ON outbox; DROP FUNCTION outbox_fails()")
    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "internal_error"
    assert _counts(plays_db, 2) == before
    ok = await plays_client.post("/v2/me/plays", headers=bearer(issuer, 2), json={"track_id": 3})
    assert ok.status_code == 202
    assert _counts(plays_db, 2) == (before[0] + 1, before[1] + 1)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"track_id": 999_999}, 404),  # no such track
        ({"track_id": 0}, 422),
        ({"track_id": -1}, 422),
        ({"track_id": 2**63}, 422),
        ({"track_id": "x"}, 422),
        ({"track_id": 1, "user_id": 3}, 422),  # extra="forbid": the user comes from the token only
        ({}, 422),
        ([1], 422),
    ],
)
async def test_bad_plays_are_refused_with_a_4xx_and_write_nothing(
    plays_client: httpx.AsyncClient, plays_db: Seeded, issuer: TokenIssuer, body: object, status: int
) -> None:
    before = _counts(plays_db, 3)
    response = await plays_client.post("/v2/me/plays", headers=bearer(issuer, 3), json=body)
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert _counts(plays_db, 3) == before


@pytest.mark.integration
async def test_plays_need_a_token_and_the_write_scope(
    plays_client: httpx.AsyncClient, plays_db: Seeded, issuer: TokenIssuer
) -> None:
    body = {"track_id": 1}
    anonymous = await plays_client.post("/v2/me/plays", json=body)
    read_only = await plays_client.post(
        "/v2/me/plays", headers=bearer(issuer, 4, scopes=("catalog:read",)), json=body
    )
    assert (anonymous.status_code, read_only.status_code) == (401, 403)
    assert _counts(plays_db, 4) == (0, 0)


@pytest.mark.integration
async def test_a_verified_user_without_a_profile_gets_one_on_their_first_write(
    plays_client: httpx.AsyncClient, plays_db: Seeded, issuer: TokenIssuer
) -> None:
    newcomer = 10**9  # signed up at the gateway, never seen by the catalog
    first = await plays_client.post("/v2/me/plays", headers=bearer(issuer, newcomer), json={"track_id": 1})
    second = await plays_client.post("/v2/me/plays", headers=bearer(issuer, newcomer), json={"track_id": 2})
    assert (first.status_code, second.status_code) == (202, 202), first.text
    assert fetch(plays_db, "SELECT handle FROM users WHERE id = %s", newcomer) == [(f"member-{newcomer}",)]
    assert _counts(plays_db, newcomer) == (2, 2)
