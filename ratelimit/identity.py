"""Who is asking: the key a rate-limit policy counts against.

Two complaints about rate limiters are really about identity. *Everyone behind a proxy shares one bucket*: the
limiter keyed on the TCP peer, which is the load balancer. *Clients spoof their way round the limit*: the
limiter believed the client-supplied ``X-Forwarded-For``. The fix for both is the same rule: walk
``X-Forwarded-For`` from the right, and skip a hop only while the address that *reported* it is a proxy we
configured as trusted. The first address not vouched for by a trusted proxy is the client. Anything further
left was written by the client itself and is ignored, and a peer that is not a trusted proxy has its header
ignored entirely (MDN, "X-Forwarded-For: Security and privacy concerns"; the same rule as nginx
``real_ip_recursive`` and Go's ``chi/middleware.RealIP`` done right).

Trust exact proxy addresses, not whole private ranges, if untrusted clients can live in those ranges. IPv6
clients are bucketed per /64 by default: one subscriber usually owns a whole /64, so per-address keys would
hand a single attacker 2^64 buckets. API keys are hashed before they become limiter keys, so Redis never holds
a secret.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterable, Sequence

from starlette.requests import HTTPConnection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Identify = Callable[[HTTPConnection], str | None]
"""Maps a request to a limiter key (``"ip:203.0.113.7"``, ``"user:42"``), or ``None`` to let the next try."""


def parse_ip(text: str | None) -> IPAddress | None:
    """An address from a peer or an ``X-Forwarded-For`` hop (ports, brackets allowed); ``None`` if garbage."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("["):  # "[2001:db8::1]:443"
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # "203.0.113.7:5678"; a bare IPv6 address has two or more colons
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # "::ffff:203.0.113.7" is the same client as "203.0.113.7"
    return address


class TrustedProxies:
    """The proxies (addresses or CIDR blocks) whose ``X-Forwarded-For`` entries we believe."""

    def __init__(self, networks: Iterable[str] = ()) -> None:
        self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def trusts(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def client_address(self, peer: str | None, forwarded_for: Sequence[str] = ()) -> IPAddress | None:
        """The real client: the rightmost hop not vouched for by a trusted proxy.

        ``forwarded_for`` is every ``X-Forwarded-For`` header line in order (a proxy may append a second line
        instead of extending the first). A hop that is not an address can only come from a trusted proxy
        misbehaving; we stop there and count the request against that proxy rather than guess.
        """
        current = parse_ip(peer)
        if current is None:
            return None
        hops = [hop for line in forwarded_for for hop in line.split(",")]
        for hop in reversed(hops):
            if not self.trusts(current):
                break
            reported = parse_ip(hop)
            if reported is None:
                break
            current = reported
        return current


def _bucket(address: IPAddress, ipv6_prefix: int) -> str:
    if isinstance(address, ipaddress.IPv6Address) and ipv6_prefix < 128:
        return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)


def client_ip(proxies: TrustedProxies | None = None, *, ipv6_prefix: int = 64) -> Identify:
    """Key by client address, honouring ``X-Forwarded-For`` only from ``proxies``."""
    trusted = proxies or TrustedProxies()

    def identify(conn: HTTPConnection) -> str | None:
        peer = conn.client.host if conn.client else None
        address = trusted.client_address(peer, conn.headers.getlist("x-forwarded-for"))
        return f"ip:{_bucket(address, ipv6_prefix)}" if address is not None else None

    return identify


def api_key(header: str = "x-api-key") -> Identify:
    """Key by API key, hashed (the limiter's store must never hold a usable credential)."""

    def identify(conn: HTTPConnection) -> str | None:
        key = conn.headers.get(header)
        if not key:
            return None
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:24]

    return identify


def user_id(
    getter: Callable[[HTTPConnection], object] | None = None, *, state_attr: str = "user_id"
) -> Identify:
    """Key by authenticated user: ``getter(conn)``, or ``request.state.<state_attr>`` set by auth.

    In the ASGI middleware this sees only what *outer* middleware set; an auth *dependency* runs after it, so
    per-user limits behind dependency-based auth belong in the FastAPI dependency (``RateLimitDependency``).
    """

    def identify(conn: HTTPConnection) -> str | None:
        value = getter(conn) if getter is not None else getattr(conn.state, state_attr, None)
        return f"user:{value}" if value is not None and value != "" else None

    return identify


def first_of(*strategies: Identify, fallback: str = "anonymous") -> Identify:
    """The first strategy that knows the caller: ``first_of(api_key(), user_id(), client_ip(proxies))``."""

    def identify(conn: HTTPConnection) -> str:
        for strategy in strategies:
            key = strategy(conn)
            if key is not None:
                return key
        return fallback

    return identify
