"""squawk reviews the SQL: safe revisions pass (exceptions explained inline), every naive twin is flagged."""

from __future__ import annotations

import re

import pytest

from migrations_demo import chain
from migrations_demo.lint import lint_naive, revision_sql, squawk
from migrations_demo.naive import NAIVE, as_script

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("revision", chain.revisions())
def test_squawk_passes_the_sql_that_alembic_upgrade_sql_emits_for_each_safe_revision(revision: str) -> None:
    text = revision_sql(revision)
    assert "lock_timeout" in text or "-- Running upgrade" in text
    assert squawk(text, f"revision_{revision}") == []


@pytest.mark.parametrize("revision", chain.revisions())
def test_every_squawk_exception_in_a_revision_says_why_on_the_line_above(revision: str) -> None:
    lines = revision_sql(revision).splitlines()
    for i, line in enumerate(lines):
        if line.startswith("-- squawk-ignore"):
            reason = lines[i - 1] if i else ""
            assert re.match(r"-- \w", reason), f"no reason above {line!r}"
            assert "squawk" not in reason, reason


@pytest.mark.parametrize("name", list(NAIVE))
def test_squawk_flags_every_naive_counterpart_for_the_reason_it_is_dangerous(name: str) -> None:
    rules = {finding.rule for finding in squawk(as_script(name), f"naive_{name}")}
    assert NAIVE[name].rules <= rules
    assert "require-lock-timeout" in rules  # and none of them sets a lock_timeout


def test_the_lint_report_covers_every_naive_migration() -> None:
    assert set(lint_naive()) == set(NAIVE)


def test_data_changes_never_appear_in_the_offline_sql() -> None:
    """Backfills are a separate command: --sql output only names them in a comment."""
    text = chain.offline_sql("migrations_demo", "base", "head")
    assert not re.search(r"^\s*UPDATE plays", text, re.MULTILINE)
    assert "-- requires: python -m migrations_demo.backfill plays_public_id" in text
