"""Every failure answers the same JSON envelope with the request id; bad input names every bad field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from observability import ApiError, instrument
from observability.errors import describe_validation_errors, status_code_name

MakeClient = Callable[[FastAPI], httpx.AsyncClient]


class Track(BaseModel):
    title: str = Field(min_length=1)
    seconds: int = Field(gt=0)


def build(service: str) -> FastAPI:
    app = FastAPI()

    @app.post("/tracks")
    async def create(track: Track, notify: bool = False) -> dict[str, Any]:
        return {"track": track.model_dump(), "notify": notify}

    @app.get("/tracks/{track_id}")
    async def get(track_id: int) -> dict[str, int]:
        raise ApiError(404, "track_not_found", f"No track {track_id}")

    @app.get("/limited")
    async def limited() -> None:
        raise ApiError(429, "rate_limited", "Slow down", headers={"Retry-After": "3"})

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(status_code=418, detail={"reason": "short and stout"})

    @app.get("/boom")
    async def boom() -> None:
        raise ZeroDivisionError("internal detail the client must not see")

    instrument(app, service=service, tracing=False)
    return app


def assert_envelope(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    message: str = body["error"]["message"]
    return message


@pytest.mark.integration
async def test_an_unknown_path_is_a_404_envelope(service: str, make_client: MakeClient) -> None:
    message = assert_envelope(await make_client(build(service)).get("/nowhere"), 404, "not_found")
    assert message == "Not Found"


@pytest.mark.integration
async def test_a_wrong_method_is_a_405_envelope_that_keeps_the_allow_header(
    service: str, make_client: MakeClient
) -> None:
    response = await make_client(build(service)).delete("/tracks/1")
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


@pytest.mark.integration
async def test_a_validation_error_is_a_422_whose_message_names_every_bad_field(
    service: str, make_client: MakeClient
) -> None:
    response = await make_client(build(service)).post(
        "/tracks?notify=perhaps", json={"title": "", "seconds": "long"}
    )
    message = assert_envelope(response, 422, "validation_error")
    assert message.startswith("Invalid request: ")
    for field in ("body.title", "body.seconds", "query.notify"):
        assert field in message


@pytest.mark.integration
async def test_an_api_error_answers_its_status_code_message_and_headers(
    service: str, make_client: MakeClient
) -> None:
    client = make_client(build(service))
    assert assert_envelope(await client.get("/tracks/7"), 404, "track_not_found") == "No track 7"
    limited = await client.get("/limited")
    assert assert_envelope(limited, 429, "rate_limited") == "Slow down"
    assert limited.headers["retry-after"] == "3"


@pytest.mark.integration
async def test_an_http_exception_with_structured_detail_keeps_it_as_the_message(
    service: str, make_client: MakeClient
) -> None:
    message = assert_envelope(await make_client(build(service)).get("/teapot"), 418, "im_a_teapot")
    assert message == '{"reason": "short and stout"}'


@pytest.mark.integration
async def test_an_unhandled_exception_is_a_500_envelope_without_internals(
    service: str, make_client: MakeClient
) -> None:
    response = await make_client(build(service)).get("/boom")
    assert assert_envelope(response, 500, "internal_error") == "Internal server error"
    assert "ZeroDivisionError" not in response.text
    assert "internal detail" not in response.text


@pytest.mark.unit
@pytest.mark.parametrize(
    ("status", "code"),
    [(404, "not_found"), (429, "too_many_requests"), (418, "im_a_teapot"), (599, "http_error")],
)
def test_status_codes_get_stable_snake_case_codes(status: int, code: str) -> None:
    assert status_code_name(status) == code


@pytest.mark.unit
def test_validation_messages_list_locations_in_order() -> None:
    errors = [{"loc": ("body", "items", 0, "id"), "msg": "Field required"}, {"loc": (), "msg": "Bad"}]
    assert (
        describe_validation_errors(errors) == "Invalid request: body.items.0.id: Field required; request: Bad"
    )
