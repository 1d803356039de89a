"""Figure references: parsing, formatting, resolving against results files, sync and stale detection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from answers import figures
from answers.figures import Index, Key, Select

pytestmark = pytest.mark.unit


@pytest.fixture
def results(tmp_path: Path) -> Path:
    data: dict[str, Any] = {
        "meta": {"command": "make bench-migrations"},
        "runs": [
            {"migration": "add_column", "mode": "naive", "p99_ms": 2100.0},
            {"migration": "add_column", "mode": "safe", "p99_ms": 18.25},
            {"migration": "add_index", "mode": "safe", "p99_ms": 20.0, "batches": 3},
            {"migration": "add_index", "mode": "safe", "p99_ms": 25.0, "batches": 4},
        ],
        "models": {"als": {"ndcg@10": 0.21432, "users": 123456, "cold-start_ok": True}},
        "ratio": 0.9137,
    }
    (tmp_path / "migrations.json").write_text(json.dumps(data), encoding="utf-8")
    return tmp_path


def test_parse_refs_finds_value_key_spec_and_line() -> None:
    text = (
        "intro\nWe saw **0.214** <!-- fig: recommender.models.als.ndcg@10 --> "
        "and **91%** <!-- fig: x.y | .0% -->\n"
    )
    first, second = figures.parse_refs(text)
    assert (first.value, first.key, first.spec, first.line) == (
        "0.214",
        "recommender.models.als.ndcg@10",
        None,
        2,
    )
    assert (second.value, second.key, second.spec) == ("91%", "x.y", ".0%")
    assert text[first.start : first.end] == "0.214"


def test_parse_refs_ignores_examples_in_code_blocks_and_inline_code() -> None:
    text = (
        "Write `**1** <!-- fig: a.b -->` like this:\n\n```markdown\n**2** <!-- fig: a.c -->\n```\n\n"
        "Real: **3** <!-- fig: a.d -->\n"
    )
    assert [ref.key for ref in figures.parse_refs(text)] == ["a.d"]


def test_parse_key_splits_topic_keys_and_list_filters() -> None:
    topic, steps = figures.parse_key("migrations.runs[migration=add_column,mode=safe].p99_ms")
    assert topic == "migrations"
    assert steps == (Key("runs"), Select((("migration", "add_column"), ("mode", "safe"))), Key("p99_ms"))
    assert figures.parse_key("t.items[0].x")[1] == (Key("items"), Index(0), Key("x"))
    assert figures.parse_key("r.models.als.ndcg@10")[1][-1] == Key("ndcg@10")


@pytest.mark.parametrize(
    "bad", ["topic", "a..b", ".a", "a.b[nokey]", "a.b[0]c", "a b.c", "a.b.", "../etc.x", ""]
)
def test_malformed_keys_are_rejected_with_a_bad_reference_error(bad: str) -> None:
    with pytest.raises(figures.BadReferenceError):
        figures.parse_key(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12345, "12,345"),
        (-7, "-7"),
        (0.21432, "0.214"),
        (3.14159, "3.14"),
        (42.42, "42.4"),
        (12345.6, "12,346"),
        (0.0, "0"),
        (0.000123, "0.000123"),
        (True, "yes"),
        (False, "no"),
        ("PostgreSQL", "PostgreSQL"),
    ],
)
def test_default_format_uses_separators_and_sensible_decimals(value: figures.Scalar, expected: str) -> None:
    assert figures.format_value(value) == expected


def test_a_format_spec_overrides_the_default() -> None:
    assert figures.format_value(0.9137, ".1%") == "91.4%"
    assert figures.format_value(1234.5678, ",.2f") == "1,234.57"


def test_a_format_spec_that_does_not_apply_is_a_bad_reference() -> None:
    with pytest.raises(figures.BadReferenceError, match="format spec"):
        figures.format_value("text", ".1%")


def test_resolve_walks_keys_with_special_characters(results: Path) -> None:
    assert figures.resolve("migrations.models.als.ndcg@10", results) == 0.21432
    assert figures.resolve("migrations.models.als.cold-start_ok", results) is True


def test_resolve_selects_the_one_list_item_matching_every_filter(results: Path) -> None:
    assert figures.resolve("migrations.runs[migration=add_column,mode=safe].p99_ms", results) == 18.25
    assert figures.resolve("migrations.runs[batches=4].p99_ms", results) == 25.0
    assert figures.resolve("migrations.runs[1].mode", results) == "safe"


def test_a_filter_matching_several_items_is_ambiguous(results: Path) -> None:
    with pytest.raises(figures.AmbiguousFilterError, match="2 items"):
        figures.resolve("migrations.runs[migration=add_index].p99_ms", results)


def test_a_filter_matching_nothing_is_a_missing_key(results: Path) -> None:
    with pytest.raises(figures.MissingKeyError, match=r"matches \[mode=turbo\]"):
        figures.resolve("migrations.runs[mode=turbo].p99_ms", results)


def test_a_missing_key_names_what_exists_instead(results: Path) -> None:
    with pytest.raises(
        figures.MissingKeyError, match=r"has no 'ndcg@20' \(it has: cold-start_ok, ndcg@10, users\)"
    ):
        figures.resolve("migrations.models.als.ndcg@20", results)


def test_an_unknown_topic_names_the_missing_file_and_the_command(results: Path) -> None:
    with pytest.raises(figures.UnknownTopicError, match=r"nope\.json.*make bench-nope"):
        figures.resolve("nope.a.b", results)


def test_a_key_pointing_at_an_object_is_not_a_value(results: Path) -> None:
    with pytest.raises(figures.NotAValueError, match="dict"):
        figures.resolve("migrations.models.als", results)


def test_sync_rewrites_stale_and_placeholder_values_only(results: Path) -> None:
    text = (
        "p99 **?** <!-- fig: migrations.runs[migration=add_column,mode=safe].p99_ms --> ms, "
        "ratio **91.4%** <!-- fig: migrations.ratio | .1% -->, "
        "users **1** <!-- fig: migrations.models.als.users -->, gone **5** <!-- fig: migrations.nothing -->\n"
    )
    new, changes = figures.sync(text, results)
    assert new == (
        "p99 **18.2** <!-- fig: migrations.runs[migration=add_column,mode=safe].p99_ms --> ms, "
        "ratio **91.4%** <!-- fig: migrations.ratio | .1% -->, "
        "users **123,456** <!-- fig: migrations.models.als.users -->, "
        "gone **5** <!-- fig: migrations.nothing -->\n"
    )
    assert [(c.old, c.new) for c in changes] == [("?", "18.2"), ("1", "123,456")]
    assert figures.sync(new, results) == (new, [])


def test_check_reports_stale_values_and_missing_keys_with_lines(results: Path) -> None:
    text = (
        "ok **0.214** <!-- fig: migrations.models.als.ndcg@10 -->\n"
        "stale **0.300** <!-- fig: migrations.models.als.ndcg@10 -->\n"
        "missing **1** <!-- fig: migrations.models.bpr.ndcg@10 -->\n"
        "no file **1** <!-- fig: gone.a -->\n"
        "ambiguous **1** <!-- fig: migrations.runs[mode=safe].p99_ms -->\n"
    )
    problems = figures.check(text, results)
    assert [(p.line, p.kind) for p in problems] == [
        (2, "stale"),
        (3, "missing"),
        (4, "missing"),
        (5, "invalid"),
    ]
    assert "quoted '0.300', results say '0.214'" in str(problems[0])
