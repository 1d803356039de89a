"""Schemathesis against the gateway's own OpenAPI document, in process (ASGI), as a signed-in user.

Every documented operation gets requests generated from its schema (valid and invalid), sent with a real
access token from ``/auth/token``. Each answer must be a non-5xx whose status, content type, headers and body
are all documented (schemathesis' response conformance checks). The downstreams are a plain HTTP stub on
loopback: the gateway's own surface is under test here, the services have their own tests and contracts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.python import asgi

from gateway import create_app
from gateway.keys import SigningKey
from tests.gateway.conftest import PASSWORD, sqlite_settings

pytestmark = pytest.mark.fuzz

Operation = schemathesis.APIOperation[Any, Any, Any, Any]
MAX_EXAMPLES = 25  # per operation and mode: the whole run stays well under a minute
# A well-formed refresh token that was never issued is a 400 invalid_grant (RFC 6749 section 5.2), not a
# rejection of valid data; schemathesis knows this for the token URL, the refresh URL needs saying.
EXCLUDED = {"POST /auth/refresh": [checks.positive_data_acceptance]}


class StubHandler(BaseHTTPRequestHandler):
    """Any method, any path: a small JSON answer (``/popular`` gets the shape the fallback reads)."""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = (
            {"items": [{"item_id": "1", "score": 1.0}]} if self.path.startswith("/popular") else {"ok": True}
        )
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815 - http.server's names

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        """Quiet: the stub's access log is noise in a fuzz run."""


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, signing_key: SigningKey, stub_url: str
) -> Iterator[tuple[schemathesis.BaseSchema, dict[str, str]]]:
    """The gateway app's schema (lifespan running in schemathesis' ASGI loop) and a real user's token."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        sqlite_settings(
            tmp_path,
            signing_key,
            allowed_hosts=("testserver",),  # the host schemathesis' ASGI client sends
            catalog_url=stub_url,
            recommender_url=stub_url,
        )
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # the same in-process client (and event loop) that runs the cases: the account lives in that app
    client = asgi.get_client(app)  # type: ignore[arg-type] # its ASGI alias is narrower than Starlette's
    created = client.post("/users", json={"username": "fuzzer", "password": PASSWORD})
    assert created.status_code == 201, created.text
    form = {"grant_type": "password", "username": "fuzzer", "password": PASSWORD}
    token = client.post("/auth/token", data=form)
    assert token.status_code == 200, token.text
    yield schema, {"Authorization": f"Bearer {token.json()['access_token']}"}
    asgi.shutdown_lifespans()


def failures_of(operation: Operation, mode: schemathesis.GenerationMode, auth: dict[str, str]) -> str:
    """Run the operation's generated cases in ``mode``; the first failure's report, or ``""``."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,  # no example database written under the repository
        derandomize=True,  # the same cases every run: a failure in CI reproduces locally
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case[Operation]) -> None:
        case.call_and_validate(headers=auth, excluded_checks=EXCLUDED.get(operation.label, []))

    try:
        run()
    except Unsatisfiable:
        if mode is schemathesis.GenerationMode.NEGATIVE:
            return ""  # an operation without inputs (the JWKS) has no invalid request to make
        raise
    except (AssertionError, BaseExceptionGroup) as exc:  # a check failed (several at once: a group)
        return f"{mode} {operation.label}: {exc}"
    return ""


def modes_for(operation: Operation) -> tuple[schemathesis.GenerationMode, ...]:
    """Valid and invalid requests; a forward's only input is a free-form path, so no value of it is invalid
    (schemathesis would spend seconds per route looking for one): those get valid requests only."""
    if operation.path.endswith("{path}"):
        return (schemathesis.GenerationMode.POSITIVE,)
    return (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


def test_every_operation_answers_as_documented_and_never_with_a_5xx(
    gateway: tuple[schemathesis.BaseSchema, dict[str, str]],
) -> None:
    schema, auth = gateway
    # ok() raises when the document is invalid, which fails the test as it should
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 15  # the auth, user and admin routes, and one per method of each forward
    failures = [
        failure
        for operation in operations
        for mode in modes_for(operation)
        if (failure := failures_of(operation, mode, auth))
    ]
    assert not failures, "\n\n".join(failures)
