"""docker-compose.yml is sound without a Docker engine: valid against the Compose Specification, and every
build context, command, mounted file, port and dependency it names exists and fits together."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.deploy import compose_model as cm
from tests.deploy.entry_points import command_problems
from tests.deploy.layout import COMPOSE_FILE, COMPOSE_SCHEMA, DEPLOY, ROOT, compose, console_scripts

pytestmark = pytest.mark.unit

# The schema's $id (compose_spec.json) is relative: resolve nothing remotely, validate what is vendored.
SCHEMA_VERSION_MARKER = "draft-07"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return compose()


@pytest.fixture(scope="module")
def services(document: dict[str, Any]) -> dict[str, cm.Service]:
    return cm.services(document)


def project_services(services: dict[str, cm.Service]) -> dict[str, cm.Service]:
    """Services run from this repository's image (they have a ``build``)."""
    return {name: service for name, service in services.items() if "build" in service}


def test_compose_file_is_valid_against_the_compose_specification_schema(document: dict[str, Any]) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    assert SCHEMA_VERSION_MARKER in schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_schema_validation_rejects_a_misspelt_service_field(document: dict[str, Any]) -> None:
    """The validator really checks services: a typo like ``depend_on`` is an error, not ignored."""
    broken = json.loads(json.dumps(document))
    broken["services"]["postgres"]["depend_on"] = ["redis"]
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_vendored_schema_is_unmodified_and_carries_its_licence() -> None:
    readme = (COMPOSE_SCHEMA.parent / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(COMPOSE_SCHEMA.read_bytes()).hexdigest()
    assert digest in readme, "update deploy/schemas/README.md (source, date, checksum) with the schema"
    assert "Apache License 2.0" in readme
    assert "compose-spec/compose-spec" in readme
    licence = (COMPOSE_SCHEMA.parent / "LICENSE-compose-spec.txt").read_text(encoding="utf-8")
    assert "Apache License" in licence
    assert "Version 2.0" in licence


def test_compose_file_uses_the_specification_without_the_obsolete_version_key(
    document: dict[str, Any],
) -> None:
    assert "version" not in document


def test_every_build_context_and_dockerfile_exists(services: dict[str, cm.Service]) -> None:
    built = project_services(services)
    assert built, "at least the answers site is built from this repository"
    for name, service in built.items():
        build = service["build"]
        context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        dockerfile = context / (
            build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        )
        assert dockerfile.is_file(), f"{name}: Dockerfile {dockerfile} does not exist"


def test_every_project_command_starts_a_module_or_console_script_that_exists(
    services: dict[str, cm.Service],
) -> None:
    """``uvicorn answers.site:create_app --factory`` needs answers/site.py with a no-argument create_app;
    ``answers migrate`` needs the ``answers`` console script and its ``migrate`` command."""
    scripts = console_scripts()
    problems = []
    for name, service in project_services(services).items():
        argv = cm.command_argv(service)
        assert argv, f"{name}: a project service names its command (the image serves several)"
        problems += [f"{name}: {problem}" for problem in command_problems(argv, ROOT, scripts)]
    assert not problems, "\n".join(problems)


def test_the_command_check_catches_a_module_that_does_not_exist() -> None:
    scripts = console_scripts()
    assert command_problems(["uvicorn", "answers.nowhere:create_app", "--factory"], ROOT, scripts)
    assert command_problems(["uvicorn", "answers.site:no_such_factory", "--factory"], ROOT, scripts)
    assert command_problems(["answers", "no-such-subcommand"], ROOT, scripts)
    assert command_problems(["no-such-script"], ROOT, scripts)
    assert command_problems(["python", "-m", "answers.nowhere"], ROOT, scripts)


def test_every_mounted_host_file_or_directory_exists(services: dict[str, cm.Service]) -> None:
    missing = [
        f"{name}: {mount.source}"
        for name, service in services.items()
        for mount in cm.bind_mounts(service)
        if not (COMPOSE_FILE.parent / mount.source).exists()
    ]
    assert not missing, f"bind mounts of files that do not exist: {missing}"


def test_mounted_configuration_is_read_only(services: dict[str, cm.Service]) -> None:
    """Containers must not rewrite the repository's config files."""
    for name, service in services.items():
        for entry in service.get("volumes", []):
            if isinstance(entry, str) and entry.startswith("./"):
                assert entry.endswith(":ro"), f"{name}: mount {entry} should be read-only"


def test_every_named_volume_is_declared(document: dict[str, Any], services: dict[str, cm.Service]) -> None:
    declared = set(document.get("volumes") or {})
    used = {volume for service in services.values() for volume in cm.named_volumes(service)}
    assert used <= declared, f"undeclared volumes: {used - declared}"


def test_host_ports_are_unique(services: dict[str, cm.Service]) -> None:
    ports = [port for name, service in services.items() for port in cm.published_ports(name, service)]
    assert ports, "the stack publishes its UIs on the host"
    taken = Counter((port.host_ip, port.host_port, port.protocol) for port in ports)
    clashes = {key: [p.service for p in ports if (p.host_ip, p.host_port, p.protocol) == key]
               for key, count in taken.items() if count > 1}  # fmt: skip
    assert not clashes, f"host ports published twice: {clashes}"


def test_every_dependency_exists_and_can_satisfy_its_condition(services: dict[str, cm.Service]) -> None:
    """``service_healthy`` needs the target's healthcheck, ``service_completed_successfully`` a one-shot."""
    problems = []
    for name, service in services.items():
        for target, condition in cm.dependencies(service).items():
            if target not in services:
                problems.append(f"{name} depends on {target!r}, which is not a service")
            elif condition == "service_healthy" and not cm.has_healthcheck(services[target]):
                problems.append(f"{name} waits for {target} to be healthy, but {target} has no healthcheck")
            elif (
                condition == "service_completed_successfully"
                and services[target].get("restart", "no") != "no"
            ):
                problems.append(f"{name} waits for one-shot {target} to finish, but {target} restarts")
    assert not problems, "\n".join(problems)


def test_project_services_wait_for_migrations_and_healthy_stores(services: dict[str, cm.Service]) -> None:
    """Each long-running project service starts once ``migrate`` succeeded and the stores are healthy."""
    assert cm.command_argv(services["migrate"]) == ["answers", "migrate"]
    for name, service in project_services(services).items():
        if name == "migrate":
            continue
        deps = cm.dependencies(service)
        assert deps.get("migrate") == "service_completed_successfully", name
        assert deps.get("postgres") == "service_healthy", name
        assert deps.get("redis") == "service_healthy", name
        assert cm.has_healthcheck(service), f"{name} needs its own healthcheck"


def test_healthchecks_of_project_services_probe_healthz(services: dict[str, cm.Service]) -> None:
    for name, service in project_services(services).items():
        if name == "migrate":
            continue
        test = " ".join(service["healthcheck"]["test"])
        assert "urllib.request" in test, name
        port = _listen_port(service)
        assert f":{port}/healthz" in test, f"{name}: healthcheck probes another port than it listens on"


def test_urls_in_service_environments_point_at_services_of_the_stack(services: dict[str, cm.Service]) -> None:
    problems = []
    for name, service in services.items():
        for key, raw in cm.environment(service).items():
            value = cm.interpolate_defaults(raw)
            match = re.match(r"^[a-z+]+://(?:[^@/]*@)?(?P<host>[\w.-]+)(?::(?P<port>\d+))?", value)
            if match and match["host"] not in services:
                problems.append(f"{name}: {key}={value} names host {match['host']!r}, not a service")
    assert not problems, "\n".join(problems)


def test_third_party_images_are_pinned_to_a_version(services: dict[str, cm.Service]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue
        image = str(service["image"])
        _, _, tag = image.rpartition(":")
        assert "/" not in tag, f"{name}: pin a tag, got {image}"
        assert tag != "latest", f"{name}: pin a tag, got {image}"
        assert re.search(r"\d+\.\d+", tag), f"{name}: pin at least major.minor, got {image}"


def _listen_port(service: cm.Service) -> str:
    argv = cm.command_argv(service) or []
    return argv[argv.index("--port") + 1] if "--port" in argv else "8000"


def test_project_services_publish_the_port_they_listen_on(services: dict[str, cm.Service]) -> None:
    for name, service in project_services(services).items():
        if name == "migrate":
            continue
        container_ports = {str(entry).split(":")[-1] for entry in service.get("ports", [])}
        assert _listen_port(service) in container_ports, name


def test_deploy_directory_holds_what_compose_mounts() -> None:
    """The compose file lives at the root and refers into deploy/: both move together."""
    assert Path(DEPLOY, "Dockerfile").is_file()
    assert COMPOSE_FILE.parent == ROOT
