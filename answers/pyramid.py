"""``make bench-testing``: this project's own test pyramid, counted and timed layer by layer (Q10).

Every test carries exactly one layer marker (tests/conftest.py refuses to collect one without), so the pyramid
is measured, not drawn from memory: pytest runs once per marker (``pytest -m unit``, ``-m integration``, ...),
each run's JUnit XML gives the counts and this module times the run's wall clock (collection, fixtures and
service discovery included: what a developer waits for). ``--quick`` only collects (counts, no run) into a
temp folder, for the test of this code path. Writes ``results/testing.json`` (and ``testing.png``) through
``observability.results.write_results``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET  # only our own pytest's JUnit report # nosec B405
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from observability.results import write_results

LAYERS = ("unit", "integration", "load", "contract", "property", "fuzz")
TOPIC = "testing"
COMMAND = "make bench-testing"
LAYER_TIMEOUT_S = 45 * 60.0
NO_TESTS_COLLECTED = 5  # pytest's exit code when a marker selects nothing
_NODE_ID_RE = re.compile(r"^\S+::\S", re.MULTILINE)


class PyramidError(Exception):
    """A layer's pytest run broke (usage error, crash, timeout), so its numbers would mean nothing."""


@dataclass(frozen=True)
class Layer:
    marker: str
    tests: int
    passed: int
    failed: int
    errors: int
    skipped: int
    seconds: float


def pytest_command(marker: str, paths: list[str], junit: Path, collect_only: bool) -> list[str]:
    command = [sys.executable, "-m", "pytest", "-m", marker, "-q", "-p", "no:cacheprovider", "--no-header"]
    command += ["--collect-only"] if collect_only else ["--junitxml", str(junit), "-o", "junit_family=xunit2"]
    return [*command, *paths]


def parse_junit(xml_text: str) -> tuple[int, int, int, int]:
    """(tests, failures, errors, skipped) summed over the report's test suites."""
    root = ET.fromstring(xml_text)  # noqa: S314 - pytest's own report, written a moment ago # nosec B314
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    totals = [0, 0, 0, 0]
    for suite in suites:
        for i, name in enumerate(("tests", "failures", "errors", "skipped")):
            totals[i] += int(suite.get(name, "0"))
    return totals[0], totals[1], totals[2], totals[3]


def count_collected(output: str) -> int:
    """Test ids in ``pytest --collect-only -q`` output (one ``path::name`` per line)."""
    return len(_NODE_ID_RE.findall(output))


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_layer(marker: str, paths: list[str], scratch: Path, collect_only: bool) -> Layer:
    junit = scratch / f"{marker}.xml"
    command = pytest_command(marker, paths, junit, collect_only)
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=LAYER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PyramidError(f"pytest -m {marker} did not finish within {LAYER_TIMEOUT_S:.0f} s") from exc
    seconds = time.perf_counter() - started
    output = done.stdout + done.stderr
    if done.returncode == NO_TESTS_COLLECTED:
        return Layer(marker, 0, 0, 0, 0, 0, seconds)
    if collect_only:
        if done.returncode != 0:
            raise PyramidError(f"pytest -m {marker} --collect-only failed:\n{_tail(output)}")
        return Layer(marker, count_collected(done.stdout), 0, 0, 0, 0, seconds)
    if done.returncode not in {0, 1} or not junit.is_file():  # 1 = some tests failed: still counted
        raise PyramidError(f"pytest -m {marker} exited with code {done.returncode}:\n{_tail(output)}")
    tests, failed, errors, skipped = parse_junit(junit.read_text(encoding="utf-8"))
    return Layer(marker, tests, tests - failed - errors - skipped, failed, errors, skipped, seconds)


def summarise(layers: list[Layer], paths: list[str], quick: bool) -> dict[str, Any]:
    """The results document: ``layers.<marker>.{tests,seconds,...}`` and ``total``."""
    total_tests = sum(layer.tests for layer in layers)
    out: dict[str, Any] = {}
    for layer in layers:
        row = {k: v for k, v in asdict(layer).items() if k != "marker"}
        row["seconds"] = round(layer.seconds, 2)
        row["share"] = round(layer.tests / total_tests, 4) if total_tests else 0.0
        row["ms_per_test"] = round(1000 * layer.seconds / layer.tests, 1) if layer.tests else None
        out[layer.marker] = row
    return {
        "layers": out,
        "total": {
            "tests": total_tests,
            "seconds": round(sum(layer.seconds for layer in layers), 2),
            "failed": sum(layer.failed + layer.errors for layer in layers),
            "skipped": sum(layer.skipped for layer in layers),
        },
        "config": {
            "mode": "collect-only" if quick else "run",
            "paths": paths,
            "pytest": importlib.metadata.version("pytest"),
            "layers": [layer.marker for layer in layers],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m answers.pyramid", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="collect only (counts, no run) into a temp dir")
    parser.add_argument("--paths", nargs="+", default=["tests"], help="test paths (default: tests)")
    parser.add_argument(
        "--layers", nargs="+", choices=LAYERS, default=list(LAYERS), help="markers to measure"
    )
    parser.add_argument("--results-dir", type=Path, default=None, help="where to write testing.json")
    args = parser.parse_args(argv)
    results_dir = args.results_dir
    if args.quick and results_dir is None:
        results_dir = Path(tempfile.mkdtemp(prefix="bench-testing-"))
    layers = []
    with tempfile.TemporaryDirectory(prefix="pyramid-") as scratch:
        for marker in args.layers:
            print(f"{marker}: {'collecting' if args.quick else 'running'} pytest -m {marker} ...", flush=True)
            try:
                layer = run_layer(marker, args.paths, Path(scratch), args.quick)
            except PyramidError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            layers.append(layer)
            print(
                f"{marker}: {layer.tests} tests, {layer.failed + layer.errors} failed, {layer.seconds:.1f} s"
            )
    data = summarise(layers, args.paths, args.quick)
    path = write_results(
        TOPIC,
        data,
        command=COMMAND,
        database_url=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        results_dir=results_dir,
    )
    from answers import pyramid_chart  # noqa: PLC0415 - matplotlib only when writing

    chart = pyramid_chart.plot(data, path.with_suffix(".png"))
    total = data["total"]
    print(f"{total['tests']} tests in {total['seconds']:.1f} s; wrote {path} and {chart}")
    if total["failed"]:
        print(
            f"error: {total['failed']} test(s) failed; the counts are written, fix the failures",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
