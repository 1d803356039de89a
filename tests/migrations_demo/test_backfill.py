"""The backfill command: keyset batches, one transaction each, resumable after a kill."""

from __future__ import annotations

import pytest

from migrations_demo import backfill
from tests.migrations_demo.conftest import Database

pytestmark = pytest.mark.integration

ROWS = 1000
JOB = backfill.JOBS["plays_public_id"]


@pytest.fixture
def pending(db: Database) -> Database:
    """1000 plays seeded before public_id existed: every one of them pending."""
    db.seeded_at("0001", ROWS)
    db.upgrade("0002")
    return db


def test_the_backfill_fills_every_row_in_batches_and_clears_its_cursor(pending: Database) -> None:
    with pending.connect() as conn:
        report = backfill.run(conn, JOB, batch_size=100)
        assert not backfill.remaining(conn, JOB)
    assert (report.batches, report.rows, report.resumed_from) == (10, ROWS, None)
    assert pending.scalar("SELECT count(*) FROM backfill_progress") == 0


def test_a_killed_backfill_resumes_after_the_last_committed_batch(pending: Database) -> None:
    with pending.connect() as conn:
        first = backfill.run(conn, JOB, batch_size=100, max_batches=3)  # "killed" after 3 batches
        assert pending.scalar("SELECT last_id FROM backfill_progress WHERE job = %s", JOB.name) == 300
        second = backfill.run(conn, JOB, batch_size=100)
        assert not backfill.remaining(conn, JOB)
    assert first.rows == 300
    assert (second.resumed_from, second.rows, second.batches) == (300, ROWS - 300, 7)


def test_a_stale_cursor_is_caught_and_the_backfill_finishes_anyway(pending: Database) -> None:
    with pending.connect() as conn:
        conn.execute("INSERT INTO backfill_progress (job, last_id) VALUES (%s, 900)", (JOB.name,))
        backfill.finish(conn, JOB, batch_size=100)
        assert not backfill.remaining(conn, JOB)


def test_a_batch_over_its_time_target_makes_the_next_ones_smaller(pending: Database) -> None:
    # any batch takes longer than 1 microsecond: after the first, every batch shrinks to the floor
    pacing = backfill.Pacing(500, target_batch_ms=0.001, min_batch_size=100, max_active=None)
    with pending.connect() as conn:
        report = backfill.run(conn, JOB, pacing=pacing)
        assert not backfill.remaining(conn, JOB)
    assert (report.batches, report.rows) == (1 + 5, ROWS)


def test_the_backfill_refuses_to_run_inside_one_big_transaction(pending: Database) -> None:
    with pending.connect() as conn:
        conn.autocommit = False
        with pytest.raises(ValueError, match="autocommit"):
            backfill.run(conn, JOB, batch_size=100)


def test_the_command_line_runs_a_job_in_a_schema(
    pending: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", pending.url)
    # fixed batches (the shared test database is busy: no time target, no waiting for other sessions)
    argv = ["--batch-size", "250", "--target-batch-ms", "0", "--max-active", "0", "--nice-ratio", "0"]
    assert backfill.main(["plays_public_id", "--schema", pending.schema, *argv]) == 0
    assert f"{ROWS} rows updated in 4 batches" in capsys.readouterr().out
    assert pending.scalar("SELECT count(*) FROM plays WHERE public_id IS NULL") == 0
