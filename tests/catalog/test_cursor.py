"""Keyset cursors are opaque, signed and bound to one listing: anything else is a CursorError (a 400)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.cursor import CursorCodec, CursorError

CODEC = CursorCodec(b"k" * 32)


@pytest.mark.property
@given(
    micros=st.integers(min_value=-(2**62), max_value=2**62),
    row_id=st.integers(min_value=1, max_value=2**63 - 1),
)
def test_a_cursor_decodes_to_exactly_the_key_it_encoded(micros: int, row_id: int) -> None:
    assert CODEC.decode("tracks", CODEC.encode("tracks", (micros, row_id)), (int, int)) == (micros, row_id)


@pytest.mark.property
@given(garbage=st.text(max_size=600))
def test_arbitrary_text_is_refused_with_a_cursor_error_and_nothing_else(garbage: str) -> None:
    with pytest.raises(CursorError):
        CODEC.decode("tracks", garbage, (int, int))


@pytest.mark.unit
def test_a_tampered_payload_fails_the_signature() -> None:
    body, tag = CODEC.encode("tracks", (1, 2)).split(".")
    forged = CursorCodec(b"k" * 32).encode("tracks", (1, 3)).split(".")[0]
    assert forged != body
    with pytest.raises(CursorError, match="signature"):
        CODEC.decode("tracks", f"{forged}.{tag}", (int, int))


@pytest.mark.unit
def test_a_cursor_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(CursorError, match="signature"):
        CODEC.decode("tracks", CursorCodec(b"x" * 32).encode("tracks", (1, 2)), (int, int))


@pytest.mark.unit
def test_a_cursor_of_another_listing_is_refused() -> None:
    with pytest.raises(CursorError, match="another listing"):
        CODEC.decode("library:2", CODEC.encode("library:1", (1, 2)), (int, int))


@pytest.mark.unit
@pytest.mark.parametrize("key", [(1,), (1, 2, 3), ("a", 2), (True, 2), (1.5, 2)])
def test_a_cursor_whose_key_does_not_fit_the_listing_is_refused(key: tuple[object, ...]) -> None:
    with pytest.raises(CursorError, match="does not fit"):
        CODEC.decode("tracks", CODEC.encode("tracks", key), (int, int))  # type: ignore[arg-type]
