"""docker-compose runs every app the launcher (``answers.stack.APPS``) starts, except the answer book, and
every worker it starts (``answers.stack.WORKERS``) with the same module and port;
Prometheus scrapes each project service on the port it listens on and loads the same config and rule files
that promtool checks here; secrets have no default."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from pathlib import Path

import pytest

from answers import stack
from tests.deploy import compose_model as cm
from tests.deploy import dockerfile as df
from tests.deploy.layout import COMPOSE_FILE, DOCKERIGNORE, PROMETHEUS_CONFIG, compose, load_yaml, rule_files

pytestmark = pytest.mark.unit

PROMETHEUS_CONFIG_IN_CONTAINER = "/etc/prometheus/prometheus.yml"
# Values only the operator may give: compose's ``${VAR:?message}`` stops `up` when VAR is unset or empty.
SECRETS = {"catalog": ("CATALOG_CURSOR_SECRET",), "gateway": ("GATEWAY_JWT_PRIVATE_KEY",)}


def scrape_targets() -> list[str]:
    config = load_yaml(PROMETHEUS_CONFIG)
    return [
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    ]


def http_services() -> dict[str, str]:
    """Project services that serve HTTP (uvicorn) -> the port they listen on."""
    found = {}
    for name, service in cm.services(compose()).items():
        argv = cm.command_argv(service) or []
        if "build" in service and argv[:1] == ["uvicorn"]:
            found[name] = argv[argv.index("--port") + 1] if "--port" in argv else "8000"
    return found


def host_path(service: cm.Service, container_path: str) -> Path | None:
    """Where a path inside the container comes from on the host, through the service's bind mounts."""
    for mount in sorted(cm.bind_mounts(service), key=lambda m: len(m.target), reverse=True):
        if container_path == mount.target or container_path.startswith(mount.target.rstrip("/") + "/"):
            rest = posixpath.relpath(container_path, mount.target)
            return (COMPOSE_FILE.parent / mount.source / rest).resolve()
    return None


def test_every_project_http_service_is_scraped_on_the_port_it_listens_on() -> None:
    targets = set(scrape_targets())
    missing = {f"{name}:{port}" for name, port in http_services().items()} - targets
    assert not missing, f"add these to deploy/prometheus/prometheus.yml scrape targets: {missing}"


def uvicorn_apps() -> dict[str, tuple[str, str]]:
    """Compose service -> (the ``module:factory`` uvicorn runs, the port it listens on)."""
    found = {}
    for name, port in http_services().items():
        argv = cm.command_argv(cm.services(compose())[name]) or []
        found[name] = (next(arg for arg in argv[1:] if ":" in arg and not arg.startswith("-")), port)
    return found


def test_every_app_the_launcher_starts_runs_in_compose_with_the_same_factory_and_port() -> None:
    """The book is the one deliberate exception: see the next test."""
    in_compose = set(uvicorn_apps().values())
    missing = [
        f"{app.name} ({app.factory} on {app.port})"
        for app in stack.APPS
        if app != stack.BOOK and (app.factory, str(app.port)) not in in_compose
    ]
    assert not missing, f"add a docker-compose.yml service (and a scrape target) for: {missing}"


def worker_modules() -> dict[str, tuple[str, str]]:
    """Compose service -> (the module ``python -m`` runs, its ``--port``) for every project worker."""
    found = {}
    for name, service in cm.services(compose()).items():
        argv = cm.command_argv(service) or []
        if "build" in service and argv[:2] == ["python", "-m"] and "--port" in argv:
            found[name] = (argv[2], argv[argv.index("--port") + 1])
    return found


def test_every_worker_the_launcher_starts_runs_in_compose_with_the_same_module_and_port() -> None:
    in_compose = worker_modules()
    missing = [
        f"{worker.name} (python -m {worker.module} --port {worker.port})"
        for worker in stack.WORKERS
        if in_compose.get(worker.name) != (worker.module, str(worker.port))
    ]
    assert not missing, f"add a docker-compose.yml service (and a scrape target) for: {missing}"


def test_every_worker_is_scraped_on_its_port() -> None:
    missing = {f"{worker.name}:{worker.port}" for worker in stack.WORKERS} - set(scrape_targets())
    assert not missing, f"add these to deploy/prometheus/prometheus.yml scrape targets: {missing}"


def test_the_book_stays_out_of_compose_because_the_image_holds_no_built_site() -> None:
    """``answers.docs_app`` serves a built ``site/``, which the image neither copies (the build context drops
    it) nor builds (no Node.js). If that changes, this fails: add the book as a service then."""
    assert stack.BOOK.factory not in {factory for factory, _ in uvicorn_apps().values()}
    assert df.is_ignored("site", df.ignore_patterns(DOCKERIGNORE))


def test_secrets_have_no_default_and_stop_compose_when_unset() -> None:
    services = cm.services(compose())
    for name, keys in SECRETS.items():
        env = cm.environment(services[name])
        for key in keys:
            assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", env[key]), f"{name}: {key}={env[key]!r}"


def test_every_scrape_target_is_a_service_of_the_stack_or_prometheus_itself() -> None:
    services = cm.services(compose())
    for target in scrape_targets():
        host, _, _port = target.partition(":")
        assert host == "localhost" or host in services, f"scrape target {target}: no such service"


def test_prometheus_in_compose_reads_this_config_and_these_rule_files() -> None:
    prometheus = cm.services(compose())["prometheus"]
    assert f"--config.file={PROMETHEUS_CONFIG_IN_CONTAINER}" in (cm.command_argv(prometheus) or [])
    assert host_path(prometheus, PROMETHEUS_CONFIG_IN_CONTAINER) == PROMETHEUS_CONFIG.resolve()
    loaded: set[Path] = set()
    for pattern in load_yaml(PROMETHEUS_CONFIG)["rule_files"]:
        in_container = posixpath.join(posixpath.dirname(PROMETHEUS_CONFIG_IN_CONTAINER), pattern)
        directory = host_path(prometheus, posixpath.dirname(in_container))
        assert directory is not None, f"rule files {in_container} are not mounted into the container"
        loaded |= {
            p.resolve() for p in directory.iterdir() if fnmatch.fnmatch(p.name, posixpath.basename(pattern))
        }
    assert loaded == {path.resolve() for path in rule_files()}


def test_jaeger_receives_otlp_over_http_where_the_services_send_it() -> None:
    services = cm.services(compose())
    jaeger_ports = {str(p).split(":")[-1] for p in services["jaeger"].get("ports", [])}
    assert "4318" in jaeger_ports
    for name in http_services():
        assert cm.environment(services[name])["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318", name
