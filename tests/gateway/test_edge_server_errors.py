"""An unhandled exception still answers with the security headers and the JSON envelope, never a traceback.

Starlette turns the exception into a 500 in ``ServerErrorMiddleware``, outside every middleware an app adds;
the gateway wraps the whole stack (``gateway.edge.wrap_outermost``) so that 500 is hardened like the rest.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import BASE_URL, sqlite_settings

pytestmark = pytest.mark.integration

INTERNAL_DETAIL = (
    "connection to db-7.internal:5432 refused"  # what an exception message must never leak to a client
)


async def test_an_unhandled_exception_is_a_500_envelope_with_the_security_headers(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    app = create_app(sqlite_settings(tmp_path, signing_key))

    @app.get("/auth/boom")  # under /auth/ so the no-store rule must apply to the error as well
    async def boom() -> None:
        raise RuntimeError(INTERNAL_DETAIL)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client,
    ):
        response = await client.get("/auth/boom")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert error["request_id"] == response.headers["x-request-id"]
    assert INTERNAL_DETAIL not in response.text
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "server" not in response.headers
