"""The Prometheus config, recording rules and SLO alerts are valid, query only real series, implement the
SRE workbook's multi-window multi-burn-rate table, and pass their promtool unit tests (each alert shown firing
and not firing)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import Promtool
from tests.deploy.layout import PROMETHEUS_CONFIG, RULES_DIR, load_yaml, rule_files, rule_test_files
from tests.deploy.promql import PROMETHEUS_BUILTIN, exported_series, recorded_series, referenced_series

# Google SRE workbook, "Alerting on SLOs", recommended multiwindow multi-burn-rate parameters.
WORKBOOK = {("1h", "5m", 14.4, "page"), ("6h", "30m", 6.0, "page"), ("3d", "6h", 1.0, "ticket")}
SLOS = {"availability", "latency"}
BURN_CONDITION = re.compile(r"service:slo_(?P<slo>\w+):burn_rate(?P<window>\w+)\s*>\s*(?P<factor>[\d.]+)")


def rules() -> list[dict[str, Any]]:
    return [rule for path in rule_files() for group in load_yaml(path)["groups"] for rule in group["rules"]]


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


@pytest.mark.unit
def test_rules_query_only_series_that_observability_exports_or_the_rules_record() -> None:
    known = exported_series() | recorded_series() | PROMETHEUS_BUILTIN
    unknown = {
        (rule.get("record") or rule.get("alert"), name)
        for rule in rules()
        for name in referenced_series(rule["expr"])
        if name not in known
    }
    assert not unknown, f"rules read series nobody produces: {sorted(unknown)}"


@pytest.mark.unit
def test_every_recording_window_records_rate_error_ratio_slow_ratio_and_both_burn_rates() -> None:
    recorded = recorded_series()
    for window in ("5m", "30m", "1h", "6h", "3d"):
        for name in ("http_requests:rate", "http_request_errors:ratio_rate", "http_request_slow:ratio_rate",
                     "slo_availability:burn_rate", "slo_latency:burn_rate"):  # fmt: skip
            assert f"service:{name}{window}" in recorded


@pytest.mark.unit
def test_slow_ratio_uses_the_250ms_bucket_and_burn_rates_divide_by_the_slo_budgets() -> None:
    by_name = {rule["record"]: rule["expr"] for rule in rules() if "record" in rule}
    assert 'le="0.25"' in by_name["service:http_request_slow:ratio_rate5m"]
    assert by_name["service:slo_availability:burn_rate1h"].strip().endswith("/ 0.001")  # 99.9%
    assert by_name["service:slo_latency:burn_rate1h"].strip().endswith("/ 0.01")  # 99%
    assert '"5.."' in by_name["service:http_request_errors:ratio_rate1h"]


@pytest.mark.unit
def test_alerts_implement_the_workbook_window_pairs_for_both_slos() -> None:
    implemented = set()
    for alert in alerts():
        conditions = BURN_CONDITION.findall(alert["expr"])
        assert len(conditions) == 2, f"{alert['alert']}: a long and a short window"
        assert re.search(r"\band\b", alert["expr"]), f"{alert['alert']}: both windows must burn (and)"
        (slo, long, factor), (slo2, short, factor2) = conditions
        assert slo == slo2 == alert["labels"]["slo"], alert["alert"]
        assert factor == factor2, alert["alert"]
        implemented.add((slo, long, short, float(factor), alert["labels"]["severity"]))
    expected = {(slo, *row) for slo in SLOS for row in WORKBOOK}
    assert implemented == expected


@pytest.mark.unit
def test_every_alert_says_how_urgent_it_is_and_where_to_start() -> None:
    for alert in alerts():
        assert alert["labels"]["severity"] in {"page", "ticket"}, alert["alert"]
        annotations = alert["annotations"]
        assert {"summary", "description", "runbook"} <= set(annotations), alert["alert"]
        assert "{{ $labels.service }}" in annotations["summary"], alert["alert"]


@pytest.mark.unit
def test_every_alert_is_shown_firing_and_not_firing_by_the_promtool_unit_tests() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in rule_test_files():
        for test in load_yaml(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {alert["alert"] for alert in alerts()}
    assert names <= firing, f"never shown firing: {names - firing}"
    assert names <= quiet, f"never shown quiet: {names - quiet}"


@pytest.mark.unit
def test_prometheus_loads_every_rule_file_in_the_repository() -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    loaded = {p for pattern in config["rule_files"] for p in PROMETHEUS_CONFIG.parent.glob(pattern)}
    assert loaded == set(rule_files())
    assert all(path.parent == RULES_DIR for path in loaded)


@pytest.mark.integration
def test_promtool_accepts_the_prometheus_config_and_the_rules_it_loads(promtool: Promtool) -> None:
    result = promtool("check", "config", PROMETHEUS_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(rule_files())} rule files found" in result.stdout


@pytest.mark.integration
def test_promtool_accepts_every_rule_file(promtool: Promtool) -> None:
    result = promtool("check", "rules", *rule_files())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration
@pytest.mark.parametrize("test_file", rule_test_files(), ids=lambda path: Path(path).stem)
def test_promtool_unit_tests_pass(promtool: Promtool, test_file: Path) -> None:
    result = promtool("test", "rules", test_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
