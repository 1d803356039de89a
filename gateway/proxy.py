"""The forwarding routes: ``/catalog/{path}`` to the catalog, ``/recommendations/{path}`` to the recommender.

Each call is authenticated and scope-checked here (coarse: read scope for GET/HEAD, write scope otherwise) and
the same token travels on. The catalog verifies it again and makes its own object-level decisions; the
recommender verifies nothing, so its ``users/{id}/...`` routes are checked here against the token's subject
(``ownership.py``, OWASP API1). The downstream's own operational endpoints (``/metrics``, probes, docs, the
embedded-mode ``/dev`` helpers) are not part of the public surface and are refused. A POST with
``Idempotency-Key`` goes through ``idempotency.py``; a failed
``GET /recommendations/users/{id}[/recommendations]`` degrades to popular tracks (``degrade.py``), after the
same ownership check.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

import httpx
import orjson
from fastapi import APIRouter, Depends, Request, Response

from gateway.degrade import DEGRADED_HEADER
from gateway.deps import ClaimsDep
from gateway.downstream import DownstreamError
from gateway.forwarding import request_headers, response_headers
from gateway.idempotency import (
    MAX_KEY_LENGTH,
    ClaimState,
    StoredResponse,
    fingerprint,
    kept_headers,
    scoped_key,
)
from gateway.ownership import require_owner
from gateway.resilience import Deadline, is_idempotent, parse_budget_ms
from gateway.responses import PASSED_THROUGH, errors
from gateway.routing import CATALOG, RECOMMENDER, Routing
from gateway.tokens import Claims
from observability import ApiError, current_request_id

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
# a service's operational and admin routes (the recommender's /admin/reload) are for operators, not the edge
INTERNAL_SEGMENTS = frozenset(
    {"metrics", "healthz", "readyz", "dev", "docs", "redoc", "openapi.json", "admin"}
)
DEGRADABLE = re.compile(r"users/(\d+)(?:/recommendations)?/?")
DROPPED_REQUEST_HEADERS = frozenset({"cookie"})  # the gateway speaks bearer tokens; cookies stay at the edge
SCOPES = {CATALOG: ("catalog:read", "catalog:write"), RECOMMENDER: ("recommendations:read", "catalog:write")}
_ERRORS = {
    "breaker_open": ("downstream_unavailable", "{name} is failing; the circuit is open, try again shortly"),
    "timeout": ("downstream_timeout", "{name} did not answer within the request deadline"),
    "unreachable": ("bad_gateway", "{name} could not be reached"),
    "too_large": ("downstream_response_too_large", "{name} answered with more than the gateway accepts"),
}

router = APIRouter(tags=["routing"])


def get_routing(request: Request) -> Routing:
    routing: Routing = request.app.state.routing
    return routing


RoutingDep = Annotated[Routing, Depends(get_routing)]


def scoped_caller(service: str) -> Callable[[Request, Claims], Awaitable[Claims]]:
    read, write = SCOPES[service]

    async def check(request: Request, claims: ClaimsDep) -> Claims:
        scope = read if request.method in {"GET", "HEAD"} else write
        if scope not in claims.scopes:
            raise ApiError(
                403,
                "insufficient_scope",
                f"this call needs the {scope!r} scope",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
            )
        return claims

    return check


CatalogCaller = Annotated[Claims, Depends(scoped_caller(CATALOG))]
RecommenderCaller = Annotated[Claims, Depends(scoped_caller(RECOMMENDER))]


def checked_path(path: str) -> str:
    segments = path.split("/")
    if (
        not path
        # "/catalog//host/metrics": httpx reads "//host/metrics" as protocol-relative, drops the host and
        # calls "/metrics" on the downstream, past the internal-segment check below
        or path.startswith("/")
        or segments[0] in INTERNAL_SEGMENTS
        or any(s in {".", ".."} for s in segments)
        or "//" in path
        # a control character (a decoded %0C) is no route of any service, and httpx refuses to send it
        or not path.isprintable()
    ):
        raise ApiError(404, "not_found", "no such route")
    return "/" + path


def to_response(status: int, headers: list[tuple[str, str]], body: bytes) -> Response:
    response = Response(content=body, status_code=status)
    response.raw_headers.extend(
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
    )
    return response


def unavailable(exc: DownstreamError, routing: Routing) -> ApiError:
    code, message = _ERRORS[exc.reason]
    headers = {"Retry-After": str(math.ceil(routing.settings.breaker_reset_s))} if exc.status == 503 else None
    return ApiError(exc.status, code, message.format(name=exc.downstream), headers=headers)


async def forward(routing: Routing, service: str, path: str, request: Request, claims: Claims) -> Response:
    target = checked_path(path)
    body = await request.body()
    settings = routing.settings
    budget = parse_budget_ms(
        request.headers.get("x-request-deadline"),
        settings.request_deadline_s,
        settings.max_request_deadline_s,
    )
    deadline = Deadline(budget)
    incoming = [(k, v) for k, v in request.headers.items() if k.lower() not in DROPPED_REQUEST_HEADERS]
    request_id = current_request_id()

    async def call() -> httpx.Response:
        try:
            return await routing.downstreams[service].call(
                request.method,
                target,
                deadline=deadline,
                idempotent=is_idempotent(request.method, request.headers),
                headers=lambda remaining: request_headers(
                    incoming, request_id=request_id, remaining_s=remaining
                ),
                params=httpx.QueryParams(request.url.query),
                content=body,
            )
        except DownstreamError as exc:
            raise unavailable(exc, routing) from None

    key = request.headers.get("idempotency-key", "").strip()
    if request.method == "POST" and key:
        fp = fingerprint(request.method, target, request.url.query, body)
        return await deduplicated(routing, scoped_key(str(claims.user_id), key), fp, deadline, call)
    upstream = await call()
    return to_response(
        upstream.status_code, response_headers(upstream.headers.multi_items()), upstream.content
    )


async def deduplicated(
    routing: Routing, key: str, fp: str, deadline: Deadline, call: Callable[[], Awaitable[httpx.Response]]
) -> Response:
    if len(key) > MAX_KEY_LENGTH + 64:  # caller id + hash: only a huge caller id could get here
        raise ApiError(400, "bad_idempotency_key", "Idempotency-Key is too long")
    store = routing.idempotency
    wait_until = time.monotonic() + min(routing.settings.idempotency_wait_s, deadline.remaining())
    while True:
        claim = await store.claim(key, fp)
        if claim.state is ClaimState.NEW:
            break
        if claim.state is ClaimState.REPLAY and claim.response is not None:
            stored = claim.response
            return to_response(stored.status, [*stored.headers, ("idempotent-replayed", "true")], stored.body)
        if claim.state is ClaimState.MISMATCH:
            raise ApiError(
                422, "idempotency_key_reused", "this Idempotency-Key was used for a different request"
            )
        if time.monotonic() >= wait_until:
            raise ApiError(
                409,
                "idempotency_in_flight",
                "a request with this Idempotency-Key is still in flight",
                headers={"Retry-After": "1"},
            )
        await asyncio.sleep(0.05)
    try:
        upstream = await call()
    except BaseException:
        await store.release(key, claim)  # nothing was answered: the client may try again with the same key
        raise
    if upstream.status_code >= 500:
        await store.release(key, claim)
    else:
        stored = StoredResponse(upstream.status_code, kept_headers(upstream.headers), upstream.content)
        await store.complete(key, claim, fp, stored)
    return to_response(
        upstream.status_code, response_headers(upstream.headers.multi_items()), upstream.content
    )


async def catalog(path: str, request: Request, claims: CatalogCaller, routing: RoutingDep) -> Response:
    return await forward(routing, CATALOG, path, request, claims)


async def recommendations(
    path: str, request: Request, claims: RecommenderCaller, routing: RoutingDep
) -> Response:
    # before anything is forwarded, and so before the degraded answer too: a fallback list under B's id is
    # still B's object to A
    require_owner(path, claims)
    degradable = DEGRADABLE.fullmatch(path) if request.method == "GET" else None
    if degradable is None:
        return await forward(routing, RECOMMENDER, path, request, claims)
    try:
        response = await forward(routing, RECOMMENDER, path, request, claims)
    except ApiError as exc:
        if exc.status < 500:
            raise
        return await degraded(routing, degradable.group(1), exc.code)
    if response.status_code >= 500:
        return await degraded(routing, degradable.group(1), "server_error")
    routing.fallback.warm_soon()  # the recommender is up: make sure a fallback list exists for later
    return response


# the gateway's own errors; anything else is the downstream's answer, passed through
FORWARD_RESPONSES = errors(401, 403, 404, 409, 413, 422, 502, 503, 504) | PASSED_THROUGH

# one route per method, each with its own operation id: a multi-method route gives every method the same id,
# which makes the OpenAPI document invalid (FastAPI warns "Duplicate Operation ID") for clients and fuzzers
for _method in METHODS:
    router.add_api_route(
        "/catalog/{path:path}",
        catalog,
        methods=[_method],
        operation_id=f"catalog_{_method.lower()}",
        summary="Forwarded to the catalog service",
        responses=FORWARD_RESPONSES,
    )
    router.add_api_route(
        "/recommendations/{path:path}",
        recommendations,
        methods=[_method],
        operation_id=f"recommendations_{_method.lower()}",
        summary="Forwarded to the recommender",
        responses=FORWARD_RESPONSES,
    )


async def degraded(routing: Routing, user_id: str, reason: str) -> Response:
    """The recommender's list shape (``Recommendations``), filled with popular items and marked degraded."""
    items = await routing.fallback.popular()
    body = {
        "user_id": user_id,
        "model_version": routing.fallback.model_version,
        "source": "popular",
        "items": items,
        "degraded": True,
        "reason": reason,
    }
    headers = [
        ("content-type", "application/json"),
        (DEGRADED_HEADER, "popular"),
        ("cache-control", "no-store"),
    ]
    return to_response(200, headers, orjson.dumps(body))
