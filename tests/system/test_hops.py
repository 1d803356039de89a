"""What crosses the hop between the gateway and the catalog processes: idempotency keys and trace context.

A POST replayed with the same ``Idempotency-Key`` must create one playlist, counted in the catalog's own
table, not in a fake; and one request must be findable by one ``trace_id`` in both services' JSON logs, which
is what makes a distributed system debuggable from its logs.
"""

from __future__ import annotations

import time
import urllib.request
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.support.faulty_proxy import FaultyProxy
from tests.system.conftest import GatewayFactory
from tests.system.processes import ServiceProcess
from tests.system.stack import Backing, sign_up_and_log_in

pytestmark = pytest.mark.integration

TRACE_ID = "5c0e4c8a2b9d4f6e8a1b3c5d7e9f0a12"
CALLER_SPAN = "1f2e3d4c5b6a7980"


def playlists_named(backing: Backing, name: str) -> int:
    with psycopg.connect(backing.database_url) as conn:
        query = sql.SQL("SELECT count(*) FROM {}.playlists WHERE name = %s").format(
            sql.Identifier(backing.schemas["catalog"])
        )
        row = conn.execute(query, (name,)).fetchone()
    return int(row[0]) if row else 0


def test_a_post_replayed_with_the_same_idempotency_key_creates_one_playlist(
    backing: Backing, gateway: ServiceProcess
) -> None:
    _, auth = sign_up_and_log_in(gateway.url)
    name = f"road trip {uuid.uuid4().hex[:6]}"
    headers = {**auth, "Idempotency-Key": f"create-{name}"}
    with httpx.Client(base_url=gateway.url, trust_env=False, timeout=10.0) as client:
        first = client.post("/catalog/v2/playlists", headers=headers, json={"name": name})
        again = client.post("/catalog/v2/playlists", headers=headers, json={"name": name})
        other = client.post("/catalog/v2/playlists", headers=headers, json={"name": name + "!"})
        fetched = client.get(first.headers["location"].replace("/v2/", "/catalog/v2/", 1), headers=auth)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert other.status_code == 422  # same key, different body: refused, not silently replayed
    assert fetched.status_code == 200
    assert fetched.json()["id"] == first.json()["id"]
    assert playlists_named(backing, name) == 1
    assert playlists_named(backing, name + "!") == 0


def test_a_keyed_post_whose_first_answer_is_lost_still_creates_one_playlist(
    backing: Backing, faulty_catalog: FaultyProxy, start_gateway: GatewayFactory
) -> None:
    """The catalog acts but answers after the attempt timeout; the gateway's retry is replayed by the catalog.

    Only the catalog knows the first attempt committed: it stores the key with the playlist (revision 0004).
    """
    gateway = start_gateway(catalog_url=faulty_catalog.url, downstream_timeout_s="0.3")
    _, auth = sign_up_and_log_in(gateway.url)
    name = f"lost answer {uuid.uuid4().hex[:6]}"
    faulty_catalog.delay_s, faulty_catalog.slow_calls, faulty_catalog.delay_after_forward = 0.6, 1, True
    with httpx.Client(base_url=gateway.url, trust_env=False, timeout=10.0) as client:
        response = client.post(
            "/catalog/v2/playlists", headers={**auth, "Idempotency-Key": name}, json={"name": name}
        )
    assert response.status_code == 201
    assert response.headers["idempotent-replayed"] == "true"  # the retry's answer is the first one, replayed
    time.sleep(0.5)  # the held first answer has landed by now
    assert playlists_named(backing, name) == 1


def access_lines(process: ServiceProcess, **match: Any) -> list[dict[str, Any]]:
    return [
        line
        for line in process.log_lines()
        if line.get("event") == "request" and all(line.get(k) == v for k, v in match.items())
    ]


def _wait_for_line(process: ServiceProcess, **match: Any) -> dict[str, Any]:
    """The access line is written as the response finishes: poll the log briefly for it."""
    for _ in range(50):
        lines = access_lines(process, **match)
        if lines:
            return lines[-1]
        time.sleep(0.05)
    raise AssertionError(f"no access line matching {match} in {process.name}'s log:\n{process.log_tail()}")


def test_one_request_has_the_same_trace_id_in_the_gateway_and_the_catalog_logs(
    catalog: ServiceProcess, gateway: ServiceProcess
) -> None:
    """No trace context from the caller: the gateway starts the trace and the catalog continues it."""
    _, auth = sign_up_and_log_in(gateway.url)
    request_id = f"trace-test-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=gateway.url, trust_env=False, timeout=10.0) as client:
        response = client.get("/catalog/v2/tracks?limit=3", headers={**auth, "X-Request-ID": request_id})
    assert response.status_code == 200
    at_gateway = _wait_for_line(gateway, request_id=request_id, route="/catalog/{path}")
    at_catalog = _wait_for_line(catalog, request_id=request_id, route="/v2/tracks")
    assert len(at_gateway["trace_id"]) == 32
    assert at_catalog["trace_id"] == at_gateway["trace_id"]
    assert at_catalog["span_id"] != at_gateway["span_id"]  # two spans of one trace, one per service
    assert (at_gateway["service"], at_catalog["service"]) == ("gateway", "catalog")


def test_a_callers_traceparent_is_continued_by_both_services(
    catalog: ServiceProcess, gateway: ServiceProcess
) -> None:
    _, auth = sign_up_and_log_in(gateway.url)
    traceparent = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
    request_id = f"trace-test-{uuid.uuid4().hex[:8]}"
    headers = {**auth, "traceparent": traceparent, "X-Request-ID": request_id}
    # urllib, not httpx: an earlier in-process test may have instrumented httpx for this whole process, and an
    # instrumented client replaces the caller's traceparent with one of its own spans
    request = urllib.request.Request(f"{gateway.url}/catalog/v2/tracks?limit=3", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10.0) as response:  # noqa: S310 - a loopback test URL # nosec B310
        assert response.status == 200
    assert _wait_for_line(gateway, request_id=request_id)["trace_id"] == TRACE_ID
    assert _wait_for_line(catalog, request_id=request_id)["trace_id"] == TRACE_ID
