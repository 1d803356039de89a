"""The RateLimit header fields follow draft-ietf-httpapi-ratelimit-headers' Structured Field syntax."""

from __future__ import annotations

import re

import pytest

from ratelimit.decision import Decision, Limit
from ratelimit.headers import (
    policy_item,
    rate_limit_headers,
    ratelimit_item,
    retry_after_seconds,
    sf_string,
    whole_seconds,
)

pytestmark = pytest.mark.unit

# RFC 8941: a List of Items, each a bare item with parameters; we only need Integer, String and Token.
_BARE = r'(?:-?\d{1,15}|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\\"])*"|[A-Za-z*][!#$%&\'*+\-.^_`|~0-9A-Za-z:/]*)'
_PARAMS = rf"(?:; *[a-z*][a-z0-9_\-.*]*(?:={_BARE})?)*"
_ITEM = rf"{_BARE}{_PARAMS}"
SF_LIST = re.compile(rf"{_ITEM}(?:[ \t]*,[ \t]*{_ITEM})*")


def params(item: str) -> dict[str, str]:
    """``"default";q=100;w=60`` -> {"q": "100", "w": "60"} (good enough for the values we emit)."""
    return dict(p.split("=", 1) for p in item.split(";")[1:])


def test_policy_item_is_a_structured_field_string_with_quota_and_window() -> None:
    item = policy_item("default", Limit(100, 60))
    assert item == '"default";q=100;w=60'
    assert SF_LIST.fullmatch(item)


def test_ratelimit_item_reports_remaining_and_seconds_to_reset() -> None:
    decision = Decision(allowed=True, limit=100, remaining=42, reset_after=29.2, retry_after=0)
    item = ratelimit_item("default", decision)
    assert item == '"default";r=42;t=30'
    assert SF_LIST.fullmatch(item)


def test_on_a_refusal_reset_names_the_same_moment_as_retry_after() -> None:
    """The draft: with both fields present, ``t`` SHOULD reference the same point in time as Retry-After."""
    decision = Decision(allowed=False, limit=10, remaining=0, reset_after=60, retry_after=5.5)
    headers = rate_limit_headers("burst", Limit(10, 60), decision)
    assert headers["Retry-After"] == "6"
    assert params(headers["RateLimit"]) == {"r": "0", "t": "6"}
    assert all(SF_LIST.fullmatch(v) for k, v in headers.items() if k.startswith("RateLimit"))


def test_retry_after_is_a_whole_number_of_seconds_and_never_zero() -> None:
    refused_now = Decision(allowed=False, limit=1, remaining=0, reset_after=0.01, retry_after=0.01)
    assert retry_after_seconds(refused_now) == 1
    assert whole_seconds(0.4) == 1
    assert whole_seconds(2.0) == 2
    assert whole_seconds(0) == 0


def test_a_degraded_response_states_the_policy_but_claims_no_remaining_quota() -> None:
    headers = rate_limit_headers("default", Limit(5, 1), None)
    assert headers == {"RateLimit-Policy": '"default";q=5;w=1'}


def test_windows_shorter_than_a_second_are_advertised_as_one_second() -> None:
    """The draft's window is a non-negative Integer; 0 would read as 'no window'."""
    assert params(policy_item("fast", Limit(10, 0.25))) == {"q": "10", "w": "1"}


def test_policy_names_are_escaped_and_must_be_printable_ascii() -> None:
    assert sf_string('a"b\\c') == '"a\\"b\\\\c"'
    assert SF_LIST.fullmatch(sf_string('a"b\\c') + ";q=1")
    with pytest.raises(ValueError, match="printable ASCII"):
        sf_string("café")


def test_non_default_quota_units_are_named() -> None:
    item = policy_item("bytes", Limit(1000, 60), quota_unit="content-bytes")
    assert item == '"bytes";q=1000;w=60;qu="content-bytes"'
    assert SF_LIST.fullmatch(item)
