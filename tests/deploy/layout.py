"""Where the deployment-as-code lives, and the loaders the deploy tests share."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
COMPOSE_SCHEMA = DEPLOY / "schemas" / "compose-spec.json"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
RULES_DIR = DEPLOY / "prometheus" / "rules"
RULE_TESTS_DIR = DEPLOY / "prometheus" / "tests"
GRAFANA_PROVISIONING = DEPLOY / "grafana" / "provisioning"
DASHBOARDS_DIR = DEPLOY / "grafana" / "dashboards"


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def compose() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(COMPOSE_FILE)
    return document


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def console_scripts() -> dict[str, str]:
    """``[project.scripts]``: console script name -> ``module:attribute``."""
    scripts: dict[str, str] = pyproject()["project"].get("scripts", {})
    return scripts


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yml"))


def rule_test_files() -> list[Path]:
    return sorted(RULE_TESTS_DIR.glob("*.yml"))
