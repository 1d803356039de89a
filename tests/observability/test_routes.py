"""Route templates: a matched request maps to its template, everything else to one ``<unmatched>``."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from observability import instrument
from tests.observability.conftest import access_lines

pytestmark = pytest.mark.integration
MakeClient = Callable[[FastAPI], httpx.AsyncClient]


def build(service: str) -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    users = APIRouter(prefix="/users")

    @users.get("/{user_id}")
    async def user(user_id: str) -> dict[str, str]:
        return {"id": user_id}

    playlists = APIRouter(prefix="/playlists")

    @playlists.get("/{playlist_id}/tracks")
    async def tracks(playlist_id: str) -> list[str]:
        return []

    users.include_router(playlists)
    app.include_router(users, prefix="/api")
    app.include_router(users, prefix="/v2")  # the same router twice: the same route object, two templates

    sub = FastAPI()

    @sub.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    app.mount("/sub", sub)
    app.mount("/tenants/{tenant}", sub)

    async def plain(_request: object) -> PlainTextResponse:
        return PlainTextResponse("plain")

    app.router.routes.append(Route("/plain/{name}", plain))
    instrument(app, service=service, tracing=False)
    return app


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/items/5", "/items/{item_id}"),
        ("/items/not-an-int", "/items/{item_id}"),  # 422: still the route that was matched
        ("/api/users/u1", "/api/users/{user_id}"),
        ("/v2/users/u1", "/v2/users/{user_id}"),
        ("/api/users/playlists/p9/tracks", "/api/users/playlists/{playlist_id}/tracks"),
        ("/sub/things/t1", "/sub/things/{thing_id}"),
        ("/tenants/acme/things/t1", "/tenants/{tenant}/things/{thing_id}"),
        ("/tenants/acme/nothing-here", "/tenants/{tenant}/{path}"),  # the mount matched, its app did not
        ("/plain/x", "/plain/{name}"),
        ("/docs", "/docs"),
        ("/no/such/path", "<unmatched>"),
        ("/items/5/", "<unmatched>"),  # the trailing-slash redirect
    ],
)
async def test_a_request_is_labelled_with_the_template_of_what_matched_it(
    path: str, template: str, service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_client(build(service)).get(path)
    [line] = access_lines(capsys.readouterr().out)
    assert (line["path"], line["route"]) == (path, template)


async def test_routes_added_after_the_first_request_are_still_resolved(
    service: str, make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build(service)
    client = make_client(app)
    await client.get("/items/1")

    @app.get("/late/{x}")
    async def late(x: str) -> str:
        return x

    await client.get("/late/1")
    assert [line["route"] for line in access_lines(capsys.readouterr().out)] == [
        "/items/{item_id}",
        "/late/{x}",
    ]
