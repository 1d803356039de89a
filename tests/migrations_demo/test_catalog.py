"""The migration catalogue is consistent with the Alembic chain and the naive twins."""

from __future__ import annotations

import pytest

from migrations_demo import chain
from migrations_demo.backfill import JOBS
from migrations_demo.catalog import MIGRATIONS, Backfill, Deploy, Upgrade
from migrations_demo.naive import NAIVE, as_script
from migrations_demo.workload import APP_VERSIONS

pytestmark = pytest.mark.unit


def test_every_migration_has_a_naive_twin_and_the_issue_s_five_are_there() -> None:
    assert set(MIGRATIONS) == set(NAIVE)
    assert {"add_index", "int_to_bigint", "add_check", "add_foreign_key", "rename_column"} <= set(MIGRATIONS)


def test_safe_steps_walk_forward_through_the_chain_from_where_the_migration_starts() -> None:
    order = chain.revisions()
    assert order[0] == "0001"
    for migration in MIGRATIONS.values():
        position = order.index(migration.before)
        for step in migration.safe:
            if isinstance(step, Upgrade):
                assert order.index(step.revision) > position, migration.name
                position = order.index(step.revision)
            elif isinstance(step, Backfill):
                assert step.job in JOBS
            elif isinstance(step, Deploy):
                assert set(step.versions) <= set(APP_VERSIONS)


def test_the_migrations_follow_one_another_along_the_chain() -> None:
    """Each starts where the previous one's safe steps ended, so a bench walks the whole chain once."""
    ends = [m.safe[-1] for m in MIGRATIONS.values()]
    starts = [m.before for m in MIGRATIONS.values()][1:]
    assert [e.revision for e in ends[:-1] if isinstance(e, Upgrade)] == starts
    assert isinstance(ends[-1], Upgrade)
    assert ends[-1].revision == chain.revisions()[-1]


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        MIGRATIONS["add_index"].steps("reckless")


def test_a_naive_script_is_one_transaction_without_any_timeout() -> None:
    script = as_script("int_to_bigint")
    assert script.startswith("BEGIN;\n")
    assert script.endswith("COMMIT;\n")
    assert "timeout" not in script
