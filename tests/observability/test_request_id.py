"""Which incoming X-Request-ID values are trusted, and what replaces the others."""

from __future__ import annotations

import re
import uuid

import pytest

from observability import request_id as rid

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("candidate", ["abc", "req-1.2_3", "A" * 128, "0"])
def test_an_id_of_1_to_128_safe_characters_is_accepted(candidate: str) -> None:
    assert rid.from_headers([(b"x-request-id", candidate.encode())]) == candidate


@pytest.mark.parametrize(
    "candidate",
    ["", "A" * 129, "has space", 'quote"d', "new\nline", "semi;colon", "slash/", "{json}", "caf\u00e9"],
)
def test_an_empty_long_or_unsafe_id_is_rejected(candidate: str) -> None:
    """Such values could forge or bloat log lines or break the echoed header."""
    assert rid.from_headers([(b"x-request-id", candidate.encode("utf-8"))]) is None


def test_other_headers_are_ignored_and_a_missing_id_gives_none() -> None:
    assert rid.from_headers([(b"x-correlation-id", b"abc"), (b"accept", b"*/*")]) is None


def test_new_ids_are_distinct_uuid4_hex_strings() -> None:
    ids = {rid.new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    for i in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", i)
        assert rid.is_valid(i)
        parsed = uuid.UUID(hex=i)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert parsed.hex == i


def test_the_current_id_is_set_for_a_scope_and_reset_after() -> None:
    assert rid.current_request_id() is None
    token = rid.set_current("abc")
    assert rid.current_request_id() == "abc"
    rid.reset_current(token)
    assert rid.current_request_id() is None
