"""Who a request counts against: trusted-proxy ``X-Forwarded-For``, spoofing attempts, key strategies."""

from __future__ import annotations

import ipaddress

import pytest
from starlette.requests import HTTPConnection

from ratelimit.identity import TrustedProxies, api_key, client_ip, first_of, parse_ip, user_id

pytestmark = pytest.mark.unit

LB = "10.0.0.5"  # our load balancer
EDGE = "10.0.1.9"  # a CDN/edge proxy in front of it
PROXIES = TrustedProxies([f"{LB}/32", f"{EDGE}/32"])


def connection(
    peer: str | None, *headers: tuple[str, str], state: dict[str, object] | None = None
) -> HTTPConnection:
    scope: dict[str, object] = {
        "type": "http",
        "client": (peer, 50_000) if peer else None,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "state": state or {},
    }
    return HTTPConnection(scope)


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def test_the_header_from_an_untrusted_peer_is_ignored_entirely() -> None:
    """A client talking to us directly cannot choose its bucket by sending X-Forwarded-For."""
    assert PROXIES.client_address("198.51.100.7", ["203.0.113.1"]) == ip("198.51.100.7")


def test_behind_a_trusted_proxy_the_hop_it_appended_is_the_client() -> None:
    assert PROXIES.client_address(LB, ["198.51.100.7"]) == ip("198.51.100.7")


def test_clients_behind_one_proxy_get_buckets_of_their_own() -> None:
    """The 'everyone behind the load balancer shares one bucket' complaint."""
    identify = client_ip(PROXIES)
    alice = identify(connection(LB, ("X-Forwarded-For", "198.51.100.7")))
    bob = identify(connection(LB, ("X-Forwarded-For", "198.51.100.8")))
    assert alice == "ip:198.51.100.7"
    assert bob == "ip:198.51.100.8"


def test_entries_a_client_wrote_itself_are_ignored() -> None:
    """The client sends 'X-Forwarded-For: 6.6.6.6'; our proxy appends the real address; we take that."""
    assert PROXIES.client_address(LB, ["6.6.6.6, 198.51.100.7"]) == ip("198.51.100.7")


def test_a_client_cannot_impersonate_a_trusted_proxy_to_skip_itself() -> None:
    """Claiming to have come through our edge only adds hops left of the address our proxy really saw."""
    spoofed = f"6.6.6.6, {EDGE}"
    assert PROXIES.client_address(LB, [f"{spoofed}, 198.51.100.7"]) == ip("198.51.100.7")


def test_a_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    """client -> edge -> balancer -> app: the edge appended the client, the balancer appended the edge."""
    assert PROXIES.client_address(LB, [f"198.51.100.7, {EDGE}"]) == ip("198.51.100.7")


def test_several_header_lines_are_one_list_in_order() -> None:
    assert PROXIES.client_address(LB, ["6.6.6.6", f"198.51.100.7, {EDGE}"]) == ip("198.51.100.7")


def test_a_garbage_hop_is_charged_to_the_proxy_that_reported_it() -> None:
    """Only a trusted proxy writes the hop we read: garbage means a broken proxy; never guess further left."""
    assert PROXIES.client_address(LB, ["198.51.100.7, unknown"]) == ip(LB)
    assert PROXIES.client_address(LB, ["6.6.6.6, "]) == ip(LB)


def test_requests_from_the_proxies_themselves_resolve_to_the_leftmost_proxy() -> None:
    assert PROXIES.client_address(LB, [EDGE]) == ip(EDGE)
    assert PROXIES.client_address(LB, []) == ip(LB)


def test_ports_brackets_and_ipv4_mapped_addresses_are_normalised() -> None:
    assert parse_ip("198.51.100.7:5123") == ip("198.51.100.7")
    assert parse_ip("[2001:db8::1]:443") == ip("2001:db8::1")
    assert parse_ip("2001:db8::1") == ip("2001:db8::1")
    assert parse_ip("::ffff:198.51.100.7") == ip("198.51.100.7")
    assert parse_ip("not-an-ip") is None
    assert parse_ip("[2001:db8::1") is None


def test_cidr_blocks_can_be_trusted() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"])
    assert proxies.client_address("10.9.9.9", ["10.1.1.1, 10.2.2.2"]) == ip("10.1.1.1")
    assert proxies.client_address("10.9.9.9", ["198.51.100.7, 10.2.2.2"]) == ip("198.51.100.7")


def test_ipv6_clients_share_a_bucket_per_slash_64() -> None:
    """One subscriber owns a /64; per-address buckets would give one attacker 2^64 of them."""
    identify = client_ip()
    a = identify(connection("2001:db8:1:2::1"))
    b = identify(connection("2001:db8:1:2:ffff::9"))
    other = identify(connection("2001:db8:1:3::1"))
    assert a == b == "ip:2001:db8:1:2::/64"
    assert other != a
    assert client_ip(ipv6_prefix=128)(connection("2001:db8:1:2::1")) == "ip:2001:db8:1:2::1"


def test_without_a_peer_address_the_ip_strategy_passes() -> None:
    assert client_ip()(connection(None)) is None


def test_api_keys_are_hashed_before_they_become_limiter_keys() -> None:
    key = api_key()(connection("198.51.100.7", ("X-API-Key", "sk_live_secret")))
    assert key is not None
    assert key.startswith("key:")
    assert "sk_live_secret" not in key
    assert key == api_key()(connection("203.0.113.1", ("X-API-Key", "sk_live_secret")))
    assert api_key()(connection("198.51.100.7")) is None


def test_user_id_comes_from_request_state_or_a_callable() -> None:
    assert user_id()(connection("198.51.100.7", state={"user_id": 42})) == "user:42"
    assert user_id()(connection("198.51.100.7")) is None
    assert (
        user_id(lambda conn: conn.headers.get("x-user"))(connection("1.2.3.4", ("X-User", "ann")))
        == "user:ann"
    )


def test_first_of_takes_the_first_strategy_that_knows_the_caller() -> None:
    identify = first_of(api_key(), user_id(), client_ip(PROXIES))
    assert identify(connection(LB, ("X-Forwarded-For", "198.51.100.7"))) == "ip:198.51.100.7"
    assert identify(connection(LB, state={"user_id": "u1"})) == "user:u1"
    assert str(identify(connection(LB, ("X-API-Key", "k"), state={"user_id": "u1"}))).startswith("key:")
    assert first_of(api_key())(connection(None)) == "anonymous"
