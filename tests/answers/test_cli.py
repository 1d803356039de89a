"""The ``answers`` CLI: list, show, sync, demo and migrate, with one-line errors and exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner, Result

from answers import demos, migrate
from answers.cli import app
from tests.answers.samples import ANSWER, RESULTS, write_book
from tests.support.servers import free_port

runner = CliRunner()


def invoke(book_dirs: tuple[Path, Path], *args: str) -> Result:
    answers_dir, results_dir = book_dirs
    return runner.invoke(app, ["--answers-dir", str(answers_dir), "--results-dir", str(results_dir), *args])


@pytest.fixture
def book_dirs(tmp_path: Path) -> tuple[Path, Path]:
    return write_book(tmp_path)


def demo_that_prints() -> None:
    print("live demo table")


def demo_that_raises() -> None:
    raise RuntimeError("redis went away")


def assert_one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.unit
def test_list_shows_twelve_questions_with_answer_demo_and_figure_count(book_dirs: tuple[Path, Path]) -> None:
    result = invoke(book_dirs, "list")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "q08-sample.md" in line)
    assert row.split("│")[4:6] == [" yes  ", "       3 "]
    assert result.stdout.count("not yet") == 11
    assert "1 of 12 answered" in result.stdout


@pytest.mark.unit
def test_show_renders_the_answer_without_the_figure_comments(book_dirs: tuple[Path, Path]) -> None:
    result = invoke(book_dirs, "show", "8")
    assert result.exit_code == 0, result.output
    assert "Q8: How do you implement logging and monitoring?" in result.stdout
    assert "12.5" in result.stdout
    assert "fig:" not in result.stdout
    assert "flowchart LR" in result.stdout


@pytest.mark.unit
@pytest.mark.parametrize(("number", "fragment"), [("13", "there is no question 13"), ("0", "no question 0")])
def test_show_rejects_a_number_that_is_not_a_question(
    book_dirs: tuple[Path, Path], number: str, fragment: str
) -> None:
    assert_one_line_error(invoke(book_dirs, "show", number), fragment)


@pytest.mark.unit
def test_show_says_when_a_question_has_no_answer_yet(book_dirs: tuple[Path, Path]) -> None:
    assert_one_line_error(invoke(book_dirs, "show", "3"), "question 3 has no answer yet")


@pytest.mark.unit
def test_show_rejects_a_non_number_with_usage_exit_code_2(book_dirs: tuple[Path, Path]) -> None:
    result = invoke(book_dirs, "show", "eight")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.unit
def test_sync_check_lists_stale_figures_and_exits_1_without_changing_files(
    book_dirs: tuple[Path, Path],
) -> None:
    answers_dir, results_dir = book_dirs
    stale = {**RESULTS, "latency": {"p99_ms": 99.0}}
    (results_dir / "obs.json").write_text(json.dumps(stale), encoding="utf-8")
    result = invoke(book_dirs, "sync", "--check")
    assert result.exit_code == 1, result.output
    assert (
        "q08-sample.md:6 stale figure 'obs.latency.p99_ms': quoted '12.5', results say '99.0'"
        in result.stdout
    )
    assert (answers_dir / "q08-sample.md").read_text(encoding="utf-8") == ANSWER


@pytest.mark.unit
def test_sync_rewrites_stale_figures_then_check_passes(book_dirs: tuple[Path, Path]) -> None:
    answers_dir, results_dir = book_dirs
    (results_dir / "obs.json").write_text(json.dumps({**RESULTS, "overhead": 0.0456}), encoding="utf-8")
    result = invoke(book_dirs, "sync")
    assert result.exit_code == 0, result.output
    assert "obs.overhead: 3.1% -> 4.6%" in result.stdout
    assert "**4.6%** <!-- fig: obs.overhead | .1% -->" in (answers_dir / "q08-sample.md").read_text("utf-8")
    assert invoke(book_dirs, "sync", "--check").exit_code == 0


@pytest.mark.unit
def test_sync_check_fails_on_a_missing_key_and_a_missing_topic(book_dirs: tuple[Path, Path]) -> None:
    (book_dirs[1] / "obs.json").unlink()
    result = invoke(book_dirs, "sync", "--check")
    assert result.exit_code == 1
    assert result.stdout.count("no results file") == 3


@pytest.mark.unit
def test_demo_for_a_question_without_one_says_so(
    book_dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demos, "DEMOS", {8: "observability.demo:main", 11: "x:y"})
    result = invoke(book_dirs, "demo", "2")
    assert_one_line_error(result, "question 2 has no demo yet (questions with a demo: 8, 11)")


@pytest.mark.unit
def test_demo_imports_and_runs_the_registered_function(
    book_dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(demos.DEMOS, 2, "tests.answers.test_cli:demo_that_prints")
    result = invoke(book_dirs, "demo", "2")
    assert result.exit_code == 0, result.output
    assert "live demo table" in result.stdout


@pytest.mark.unit
def test_a_failing_or_missing_demo_is_one_line_not_a_traceback(
    book_dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(demos.DEMOS, 2, "tests.answers.test_cli:demo_that_raises")
    assert_one_line_error(invoke(book_dirs, "demo", "2"), "failed: RuntimeError: redis went away")
    monkeypatch.setitem(demos.DEMOS, 2, "tests.answers.no_such_module:main")
    assert_one_line_error(invoke(book_dirs, "demo", "2"), "cannot be loaded")


@pytest.mark.unit
def test_migrate_with_no_registered_package_has_nothing_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrate, "MIGRATING_PACKAGES", ())
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0
    assert "nothing to migrate" in result.stdout


@pytest.mark.unit
def test_migrate_a_package_without_an_alembic_env_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrate, "MIGRATING_PACKAGES", ("tests.answers",))
    assert_one_line_error(runner.invoke(app, ["migrate"]), "has no Alembic environment")


@pytest.mark.integration
def test_migrate_applies_a_registered_chain_into_the_requested_schema(
    database_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With tests.support.sample_app registered, `answers migrate` creates its table in <prefix>sample_app."""
    monkeypatch.setattr(migrate, "MIGRATING_PACKAGES", ("tests.support.sample_app",))
    target = f"{pg_schema}_sample_app"
    try:
        result = runner.invoke(
            app, ["migrate"], env={"DATABASE_URL": database_url, "MIGRATE_SCHEMA_PREFIX": f"{pg_schema}_"}
        )
        assert result.exit_code == 0, result.output
        assert f"migrated tests.support.sample_app to head (schema {target})" in result.stdout
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (target,)
            ).fetchall()
        assert {name for (name,) in rows} == {"widgets", "alembic_version"}
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(target)))


@pytest.mark.integration
def test_migrate_against_an_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrate, "MIGRATING_PACKAGES", ("tests.support.sample_app",))
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    result = runner.invoke(app, ["migrate", "--database-url", dead, "--schema-prefix", "never_"])
    assert_one_line_error(result, "tests.support.sample_app: alembic upgrade head failed: OperationalError")


@pytest.mark.integration
def test_python_dash_m_answers_runs_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "answers", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    for command in ("list", "show", "sync", "demo", "migrate", "serve"):
        assert command in result.stdout
