"""make bench-testing (answers.pyramid): the suite counted and timed per layer marker, by pytest itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from answers import pyramid

# The pyramid runs pytest on these (a small, fast, service-free module) instead of the whole suite.
TARGET = "tests/answers/test_quiz.py"

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests">
  <testsuite name="pytest" errors="1" failures="2" skipped="3" tests="20" time="4.5"/>
  <testsuite name="pytest" errors="0" failures="0" skipped="0" tests="5" time="1.0"/>
</testsuites>
"""


@pytest.mark.unit
def test_junit_counts_are_summed_over_suites() -> None:
    assert pyramid.parse_junit(JUNIT) == (25, 2, 1, 3)
    assert pyramid.parse_junit('<testsuite tests="4" failures="1"/>') == (4, 1, 0, 0)


@pytest.mark.unit
def test_collected_ids_are_counted_from_collect_only_output() -> None:
    output = "tests/a.py::test_one\ntests/a.py::test_two[x-1]\n\n2 tests collected in 0.1s\n"
    assert pyramid.count_collected(output) == 2


@pytest.mark.unit
def test_each_layer_runs_pytest_with_its_marker_and_a_junit_report(tmp_path: Path) -> None:
    command = pyramid.pytest_command("integration", ["tests/x"], tmp_path / "r.xml", collect_only=False)
    assert command[1:5] == ["-m", "pytest", "-m", "integration"]
    assert command[-1] == "tests/x"
    assert f"--junitxml={tmp_path / 'r.xml'}" in " ".join(command).replace("--junitxml ", "--junitxml=")


@pytest.mark.unit
def test_the_summary_has_layers_with_tests_and_seconds_and_a_total() -> None:
    layers = [
        pyramid.Layer("unit", 90, 89, 1, 0, 0, 9.0),
        pyramid.Layer("integration", 10, 10, 0, 0, 0, 30.0),
        pyramid.Layer("fuzz", 0, 0, 0, 0, 0, 2.0),
    ]
    data = pyramid.summarise(layers, ["tests"], quick=False)
    assert data["layers"]["unit"] == {
        "tests": 90,
        "passed": 89,
        "failed": 1,
        "errors": 0,
        "skipped": 0,
        "seconds": 9.0,
        "share": 0.9,
        "ms_per_test": 100.0,
    }
    assert data["layers"]["fuzz"]["ms_per_test"] is None
    assert data["total"] == {"tests": 100, "seconds": 41.0, "failed": 1, "skipped": 0}
    assert data["config"]["mode"] == "run"


def results(directory: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((directory / "testing.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.integration
def test_quick_mode_counts_by_collecting_and_writes_results_and_chart(tmp_path: Path) -> None:
    code = pyramid.main(
        ["--quick", "--paths", TARGET, "--layers", "unit", "load", "--results-dir", str(tmp_path)]
    )
    assert code == 0
    data = results(tmp_path)
    layers = data["layers"]
    assert isinstance(layers, dict)
    assert layers["unit"]["tests"] > 10
    assert layers["load"]["tests"] == 0
    assert data["meta"]["command"] == "make bench-testing"  # type: ignore[index]
    assert data["config"]["mode"] == "collect-only"  # type: ignore[index]
    assert (tmp_path / "testing.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.integration
def test_a_real_run_counts_what_pytest_ran_and_times_it(tmp_path: Path) -> None:
    """Run mode really runs the layer: every unit test of the target passed, wall time measured."""
    assert pyramid.main(["--paths", TARGET, "--layers", "unit", "--results-dir", str(tmp_path)]) == 0
    data = results(tmp_path)
    unit = data["layers"]["unit"]  # type: ignore[index]
    assert unit["tests"] > 10
    assert unit["passed"] == unit["tests"]
    assert unit["failed"] == unit["errors"] == unit["skipped"] == 0
    assert unit["seconds"] > 0
    assert data["total"]["tests"] == unit["tests"]  # type: ignore[index]
    assert data["config"]["mode"] == "run"  # type: ignore[index]
