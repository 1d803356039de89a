"""The Grafana dashboard and provisioning fit the stack: the dashboard queries only series that exist, per
`service`, through the provisioned datasources, and every query is valid PromQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import compose_model as cm
from tests.deploy.conftest import Promtool
from tests.deploy.layout import COMPOSE_FILE, DASHBOARDS_DIR, GRAFANA_PROVISIONING, compose, load_yaml
from tests.deploy.promql import PROMETHEUS_BUILTIN, exported_series, recorded_series, referenced_series

DASHBOARD = DASHBOARDS_DIR / "services.json"


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels() -> list[dict[str, Any]]:
    return [panel for panel in dashboard()["panels"] if panel["type"] != "row"]


def queries() -> list[str]:
    return [target["expr"] for panel in panels() for target in panel["targets"]]


def datasources() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted((GRAFANA_PROVISIONING / "datasources").glob("*.yml")):
        found += load_yaml(path)["datasources"]
    return found


@pytest.mark.unit
def test_dashboard_is_templated_by_the_service_label() -> None:
    variables = {var["name"]: var for var in dashboard()["templating"]["list"]}
    assert variables["service"]["definition"] == "label_values(http_requests_total, service)"
    unfiltered = [expr for expr in queries() if '$service"' not in expr]
    assert not unfiltered, f"queries not filtered by the service variable: {unfiltered}"


@pytest.mark.unit
def test_dashboard_queries_read_only_series_that_exist() -> None:
    known = exported_series() | recorded_series() | PROMETHEUS_BUILTIN
    unknown = {name for expr in queries() for name in referenced_series(expr)} - known
    assert not unknown, f"the dashboard queries series nobody produces: {unknown}"


@pytest.mark.unit
def test_dashboard_shows_red_saturation_and_the_slo_burn_of_both_slos() -> None:
    text = "\n".join(queries())
    assert "rate(http_requests_total" in text
    assert 'status=~"5.."' in text
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}, sum by (service, le)" in text
    assert "http_requests_in_progress" in text
    for slo in ("availability", "latency"):
        for window in ("5m", "30m", "1h", "6h", "3d"):
            assert f"service:slo_{slo}:burn_rate{window}" in text


@pytest.mark.unit
def test_every_panel_uses_a_provisioned_datasource_and_has_a_unique_id() -> None:
    uids = {source["uid"] for source in datasources()}
    ids = [panel["id"] for panel in dashboard()["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels():
        assert panel["datasource"]["uid"] in uids, panel["title"]
        assert all(target["datasource"]["uid"] in uids for target in panel["targets"]), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]


@pytest.mark.unit
def test_datasources_are_prometheus_and_jaeger_at_their_compose_services() -> None:
    services = cm.services(compose())
    by_type = {source["type"]: source for source in datasources()}
    assert set(by_type) == {"prometheus", "jaeger"}
    assert by_type["prometheus"].get("isDefault") is True
    for source in by_type.values():
        match = re.fullmatch(r"http://(?P<host>[\w-]+):(?P<port>\d+)", source["url"])
        assert match, source["url"]
        assert match["host"] in services, f"{source['name']}: no service {match['host']!r} in compose"
        published = {p.split(":")[-1] for p in map(str, services[match["host"]].get("ports", []))}
        assert match["port"] in published, (
            f"{source['name']}: {match['host']} does not serve port {match['port']}"
        )


@pytest.mark.unit
def test_grafana_in_compose_mounts_the_provisioning_and_finds_the_dashboards_where_the_provider_looks() -> (
    None
):
    grafana = cm.services(compose())["grafana"]
    mounts = {
        mount.target: (COMPOSE_FILE.parent / mount.source).resolve() for mount in cm.bind_mounts(grafana)
    }
    assert mounts["/etc/grafana/provisioning"] == GRAFANA_PROVISIONING.resolve()
    for path in sorted((GRAFANA_PROVISIONING / "dashboards").glob("*.yml")):
        for provider in load_yaml(path)["providers"]:
            host_dir = mounts[provider["options"]["path"]]
            assert host_dir == DASHBOARDS_DIR.resolve()
            assert (host_dir / DASHBOARD.name).is_file()


@pytest.mark.integration
def test_every_dashboard_query_is_valid_promql(promtool: Promtool, tmp_path: Path) -> None:
    """Grafana's variables are replaced the way Grafana would, then promtool parses each query as a rule."""
    rules = [
        {"record": f"dashboard:query:{index}",
         "expr": expr.replace("$__rate_interval", "1m").replace("$service", "answers-site")}
        for index, expr in enumerate(queries())
    ]  # fmt: skip
    rules_file = tmp_path / "dashboard-queries.yml"
    rules_file.write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8"
    )
    result = promtool("check", "rules", rules_file)
    assert result.returncode == 0, result.stdout + result.stderr
