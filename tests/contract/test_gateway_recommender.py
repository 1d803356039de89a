"""Contract: what the gateway sends to the recommender and reads back, against the recommender's schema.

The gateway calls ``GET /popular`` itself and reads its ``items`` (``gateway/degrade.py``); it recognises
``GET /users/{id}/recommendations`` as degradable and answers it, when the recommender fails, with popular
items in the recommender's own list shape. So the schema must have both operations with those parameters,
the fields the gateway reads and writes must exist with the same types, the admin route must stay off the
edge, and real answers (recorded from the recommender in process) must validate against the schema and feed
the gateway's fallback to a body that a client of the recommender can read.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from gateway.degrade import items_of
from gateway.proxy import DEGRADABLE, SCOPES, checked_path
from gateway.routing import RECOMMENDER
from gateway.settings import USER_SCOPES
from observability import ApiError
from recommender.service import create_app as create_recommender
from recommender.settings import RecommenderSettings
from tests.contract.openapi import Document, assert_valid, operation, parameter, resolve, response_schema

pytestmark = pytest.mark.contract

GATEWAY_MARKERS = ("degraded", "reason")  # what the gateway adds to a degraded list, beyond the schema's


def recommender_settings(tmp_path: Path) -> RecommenderSettings:
    """Embedded, with the smallest synthetic model the lifespan trains when it finds none."""
    return RecommenderSettings(
        mode="embedded",
        redis_url=None,
        models_dir=tmp_path / "models",
        bootstrap_users=10,
        bootstrap_items=20,
        bootstrap_iterations=1,
        admin_token=SecretStr("contract-admin-token"),  # mounts /admin/reload, which must stay off the edge
    )


@pytest.fixture(scope="module")
def recommender_doc(tmp_path_factory: pytest.TempPathFactory) -> Document:
    doc: Document = create_recommender(recommender_settings(tmp_path_factory.mktemp("doc"))).openapi()
    return doc


def test_popular_exists_and_answers_the_items_the_fallback_reads(recommender_doc: Document) -> None:
    operation(recommender_doc, "/popular", "get")
    popular = resolve(recommender_doc, response_schema(recommender_doc, "/popular", "get", 200))
    assert popular["properties"]["items"]["type"] == "array"  # degrade.items_of reads body["items"]
    assert "model_version" in popular["properties"]  # PopularFallback.model_version reads it


def test_the_degradable_route_exists_with_an_id_the_gateway_recognises(recommender_doc: Document) -> None:
    path = "/users/{user_id}/recommendations"
    user_id = parameter(recommender_doc, path, "get", "user_id", "path")
    assert DEGRADABLE.fullmatch("users/42/recommendations") is not None
    assert re.fullmatch(user_id["schema"]["pattern"], "42")  # the digits the gateway's pattern captures
    assert parameter(recommender_doc, path, "get", "k", "query")["schema"]["type"] == "integer"


def test_a_degraded_list_has_the_fields_and_types_of_the_recommenders_own(recommender_doc: Document) -> None:
    path = "/users/{user_id}/recommendations"
    listing = resolve(recommender_doc, response_schema(recommender_doc, path, "get", 200))
    popular = resolve(recommender_doc, response_schema(recommender_doc, "/popular", "get", 200))
    assert listing["properties"]["user_id"]["type"] == "string"  # the gateway sends the id as a string
    assert "popular" in listing["properties"]["source"]["enum"]  # the source the gateway names
    # the fallback's items are the popular list's items: the same item schema as a normal list's
    assert listing["properties"]["items"]["items"] == popular["properties"]["items"]["items"]
    assert not set(GATEWAY_MARKERS) & set(listing["properties"])  # our markers never shadow its fields


def test_the_recommenders_admin_route_is_not_reachable_through_the_gateway(recommender_doc: Document) -> None:
    admin = [p for p in recommender_doc["paths"] if p.startswith("/admin/")]
    assert admin == ["/admin/reload"]
    with pytest.raises(ApiError) as refused:
        checked_path("admin/reload")
    assert refused.value.status == 404


def test_the_scopes_the_gateway_checks_for_the_recommender_are_granted_to_users() -> None:
    read, write = SCOPES[RECOMMENDER]
    assert {read, write} <= set(USER_SCOPES)


@pytest.fixture
async def recommender(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_recommender(recommender_settings(tmp_path))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://recommender") as client,
    ):
        yield app, client


async def test_recorded_answers_match_the_schema_and_feed_a_readable_degraded_list(
    recommender: tuple[FastAPI, httpx.AsyncClient], recommender_doc: Document
) -> None:
    _, client = recommender
    popular = await client.get("/popular")
    assert popular.status_code == 200, popular.text
    assert_valid(recommender_doc, response_schema(recommender_doc, "/popular", "get", 200), popular.json())
    path = "/users/{user_id}/recommendations"
    listing = await client.get("/users/1/recommendations", params={"k": 3})
    assert listing.status_code == 200, listing.text
    assert_valid(recommender_doc, response_schema(recommender_doc, path, "get", 200), listing.json())
    items = items_of(popular.content)
    assert items == popular.json()["items"]
    degraded: dict[str, Any] = {
        "user_id": "1",
        "model_version": orjson.loads(popular.content)["model_version"],
        "source": "popular",
        "items": items,
    }
    assert_valid(recommender_doc, response_schema(recommender_doc, path, "get", 200), degraded)
