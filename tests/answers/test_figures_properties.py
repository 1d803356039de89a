"""Whatever a results file holds, ``sync`` brings every quoted value up to date in one pass."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from answers import figures

pytestmark = pytest.mark.property

values = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.booleans(),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="*\n\r"), max_size=20),
)
keys = st.from_regex(r"[a-z][a-z0-9_@-]{0,8}", fullmatch=True)


@settings(max_examples=50)
@given(st.dictionaries(keys, values, min_size=1, max_size=6), st.sampled_from(["?", "0", "stale value"]))
def test_after_one_sync_check_finds_nothing_and_a_second_sync_changes_nothing(
    data: dict[str, figures.Scalar], placeholder: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp)
        (results / "topic.json").write_text(json.dumps({"values": data}), encoding="utf-8")
        text = (
            "\n".join(f"- {key}: **{placeholder}** <!-- fig: topic.values.{key} -->" for key in data) + "\n"
        )
        synced, _ = figures.sync(text, results)
        assert figures.check(synced, results) == []
        assert figures.sync(synced, results) == (synced, [])
        for ref in figures.parse_refs(synced):
            assert ref.value == figures.format_value(data[ref.key.removeprefix("topic.values.")])
