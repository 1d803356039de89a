"""Which headers cross the hop, in each direction.

A proxy must drop the *hop-by-hop* headers (RFC 9110 section 7.6.1: ``Connection`` and every header it
names, ``Keep-Alive``, ``Proxy-*``, ``TE``, ``Trailer``, ``Transfer-Encoding``, ``Upgrade``): they describe
one connection, not the message. ``Host`` and ``Content-Length`` are recomputed by the client. What the
gateway adds is what makes the two services one system: the caller's verified ``Authorization`` (the service
checks it again, object-level checks live there), the ``X-Request-ID`` of this request, the remaining
deadline, and the W3C ``traceparent``/``tracestate`` of the current span, injected explicitly so one trace
spans gateway and service whatever transport the client uses.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import propagate

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# recomputed by httpx for the new connection, or set by the gateway itself: below, or the pooled client's
# Accept-Encoding: identity (downstream.py; the gateway decodes every body, so a caller's gzip buys nothing)
RECOMPUTED = frozenset(
    {
        "host",
        "content-length",
        "accept-encoding",
        "x-request-id",
        "x-request-deadline",
        "traceparent",
        "tracestate",
    }
)
# never echoed back: the gateway's own middleware sets these (server leak, framing, its own request id)
RESPONSE_DROPPED = frozenset({"server", "date", "content-length", "content-encoding", "x-request-id"})


def _connection_named(headers: Iterable[tuple[str, str]]) -> set[str]:
    named: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            named.update(part.strip().lower() for part in value.split(",") if part.strip())
    return named


def request_headers(
    incoming: Iterable[tuple[str, str]], *, request_id: str | None, remaining_s: float
) -> list[tuple[str, str]]:
    """The incoming headers minus hop-by-hop ones, plus request id, deadline and trace context."""
    pairs = list(incoming)
    dropped = HOP_BY_HOP | RECOMPUTED | _connection_named(pairs)
    out = [(name, value) for name, value in pairs if name.lower() not in dropped]
    if request_id:
        out.append(("x-request-id", request_id))
    out.append(("x-request-deadline", str(max(int(remaining_s * 1000), 1))))
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the current (gateway server) span; httpx's client span may refine it
    out.extend(carrier.items())
    return out


def response_headers(incoming: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The downstream's response headers minus hop-by-hop and those the gateway owns."""
    pairs = list(incoming)
    dropped = HOP_BY_HOP | RESPONSE_DROPPED | _connection_named(pairs)
    return [(name, value) for name, value in pairs if name.lower() not in dropped]
