"""The benchmark's arithmetic and parsing, and one quick real run through every variant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from observability import bench

WRK_OK = """Running 1s test @ http://127.0.0.1:8000/ping
  1 threads and 32 connections
Requests/sec:   8123.45
Transfer/sec:      1.12MB
"""


@pytest.mark.unit
def test_wrk_output_gives_requests_per_second() -> None:
    assert bench.parse_wrk(WRK_OK) == 8123.45


@pytest.mark.unit
@pytest.mark.parametrize(
    "extra",
    ["  Non-2xx or 3xx responses: 12\n", "  Socket errors: connect 0, read 3, write 0, timeout 0\n", None],
)
def test_a_wrk_run_with_errors_or_without_a_rate_is_refused(extra: str | None) -> None:
    output = WRK_OK + extra if extra else "wrk: connection refused\n"
    with pytest.raises(RuntimeError):
        bench.parse_wrk(output)


@pytest.mark.unit
def test_figures_are_medians_of_rounds_and_ratios_compare_ours_to_bare_and_anchor() -> None:
    samples = {"bare": [100.0, 300.0, 200.0], "ours": [190.0, 180.0, 500.0], "anchor": [90.0, 95.0, 100.0],
               "full": [50.0, 60.0, 70.0]}  # fmt: skip
    data = bench.summarise(samples, bench.WrkSettings(1, 32, 5.0, 2.0, 3))
    assert (data["bare_rps"], data["ours_rps"], data["anchor_rps"], data["full_rps"]) == (200, 190, 95, 60)
    assert data["ours_vs_bare"] == 0.95
    assert data["ours_vs_anchor"] == 2.0
    assert data["wrk"]["connections"] == 32


@pytest.mark.load
def test_a_quick_run_measures_every_variant_and_writes_only_the_named_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Behaviour, not speed: every server answers wrk without errors and the results file is complete."""
    bench.main(["--quick", "--results-dir", str(tmp_path)])
    data = json.loads((tmp_path / "observability.json").read_text())
    assert set(data) == {"meta", "bare_rps", "ours_rps", "anchor_rps", "full_rps", "ours_vs_bare",
                         "ours_vs_anchor", "wrk"}  # fmt: skip
    assert all(data[f"{variant}_rps"] > 0 for variant in bench.VARIANTS)
    assert data["ours_vs_bare"] == pytest.approx(data["ours_rps"] / data["bare_rps"], abs=0.002)
    assert data["meta"]["command"] == "make bench-observability"
    assert "targets:" in capsys.readouterr().out
