"""Command lines: bad arguments get a clear message and exit code 2, never a traceback."""

from __future__ import annotations

import pytest

from migrations_demo import backfill, bench, live

pytestmark = pytest.mark.unit


def error_of(main: object, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)  # type: ignore[operator]
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--mode", "safe"], "the following arguments are required: --migration"),
        (["--migration", "drop_everything", "--mode", "safe"], "invalid choice: 'drop_everything'"),
        (["--migration", "add_index", "--mode", "yolo"], "invalid choice: 'yolo'"),
        (["--migration", "add_index", "--mode", "safe", "--rows", "0"], "must be > 0, got 0"),
        (["--migration", "add_index", "--mode", "safe", "--rate", "-5"], "must be > 0, got -5"),
        (["--migration", "add_index", "--mode", "safe", "--rate", "fast"], "'fast' is not a number"),
        (["--migration", "add_index", "--mode", "safe", "--repeats", "1.5"], "'1.5' is not a number"),
        (["--migration", "add_index", "--mode", "safe", "--adversary", "-1"], "must be >= 0, got -1"),
    ],
)
def test_the_live_harness_rejects_bad_arguments_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert message in error_of(live.main, argv, capsys)


def test_the_live_harness_turns_arguments_into_a_run_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATIONS_LOCK_TIMEOUT_MS", "700")
    args = live.parser().parse_args(
        [
            "--migration",
            "int_to_bigint",
            "--mode",
            "naive",
            "--rows",
            "5000",
            "--rate",
            "100",
            "--baseline",
            "3",
        ]
    )
    config = live.config_from(args)
    assert (config.migration, config.mode, config.rows, config.rate, config.baseline_s) == (
        "int_to_bigint",
        "naive",
        5000,
        100.0,
        3.0,
    )
    assert config.policy.lock_timeout_ms == 700
    args = live.parser().parse_args(
        ["--migration", "add_index", "--mode", "safe", "--lock-timeout-ms", "250"]
    )
    assert live.config_from(args).policy.lock_timeout_ms == 250


def test_the_backfill_command_rejects_bad_arguments_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert "invalid choice: 'no_such_job'" in error_of(backfill.main, ["no_such_job"], capsys)
    assert "--batch-size must be >= 1" in error_of(
        backfill.main, ["plays_public_id", "--batch-size", "0"], capsys
    )
    assert "plain lower-case identifier" in error_of(
        backfill.main, ["plays_public_id", "--schema", "x; DROP TABLE plays"], capsys
    )


def test_the_bench_rejects_unknown_migrations_and_fills_full_size_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert "unknown migrations nope" in error_of(bench.parse, ["--migrations", "add_index,nope"], capsys)
    full = bench.parse([])
    assert (full.rows, full.rate, full.repeats, full.baseline) == (1_000_000, 500.0, 3, 30.0)
    quick = bench.parse(["--quick", "--migrations", "add_index"])
    assert quick.rows < 10_000
    assert quick.results_dir is not None
    assert quick.migrations == ["add_index"]


def test_without_postgresql_the_live_harness_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing"
    )  # nothing listens on port 1
    assert live.main(["--migration", "add_index", "--mode", "safe"]) == 2
    err = capsys.readouterr().err
    assert "needs PostgreSQL" in err
    assert "DATABASE_URL" in err
