"""Read the parts of a Compose file that the deploy tests check, in both the short and the long syntax.

The Compose Specification allows most fields in two shapes (``"8000:8000"`` or ``{published: 8000, ...}``; a
list or a mapping for ``depends_on`` and ``environment``); these helpers flatten them so a test can state its
rule once. Only what docker-compose.yml may use is covered; anything else fails loudly rather than passing.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

Service = dict[str, Any]

_DEFAULT = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate_defaults(value: str) -> str:
    """``${VAR:-default}`` -> ``default`` (and ``${VAR}`` -> ``""``): what compose uses when VAR is unset."""
    return _DEFAULT.sub(lambda match: match[2] or "", value)


@dataclass(frozen=True)
class PublishedPort:
    service: str
    host_ip: str
    host_port: str
    protocol: str


@dataclass(frozen=True)
class BindMount:
    source: str  # as written, relative to the compose file's directory
    target: str  # path inside the container


def services(document: dict[str, Any]) -> dict[str, Service]:
    found: dict[str, Service] = document.get("services") or {}
    return found


def command_argv(service: Service) -> list[str] | None:
    command = service.get("command")
    if command is None:
        return None
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


def published_ports(name: str, service: Service) -> list[PublishedPort]:
    """Ports bound on the host; ``"8000"`` (no host side) gets a random host port and is left out."""
    found = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            if entry.get("published") is None:
                continue
            host_ip, host_port = str(entry.get("host_ip", "")), str(entry["published"])
            protocol = str(entry.get("protocol", "tcp"))
        else:
            spec, _, protocol = str(entry).partition("/")
            parts = spec.split(":")
            if len(parts) == 1:
                continue
            host_ip, host_port = (parts[0], parts[1]) if len(parts) == 3 else ("", parts[0])
            protocol = protocol or "tcp"
        found.append(PublishedPort(name, host_ip, host_port, protocol))
    return found


def bind_mounts(service: Service) -> list[BindMount]:
    mounts = []
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            if entry.get("type") == "bind":
                mounts.append(BindMount(str(entry["source"]), str(entry["target"])))
        else:
            source, target, *_ = str(entry).split(":")
            if source.startswith((".", "/", "~")):
                mounts.append(BindMount(source, target))
    return mounts


def named_volumes(service: Service) -> list[str]:
    names = []
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            if entry.get("type") == "volume" and entry.get("source"):
                names.append(str(entry["source"]))
        else:
            source = str(entry).split(":")[0]
            if ":" in str(entry) and not source.startswith((".", "/", "~")):
                names.append(source)
    return names


def dependencies(service: Service) -> dict[str, str]:
    """``depends_on`` as target -> condition (the list form means ``service_started``)."""
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return dict.fromkeys(map(str, depends_on), "service_started")
    return {name: str((spec or {}).get("condition", "service_started")) for name, spec in depends_on.items()}


def environment(service: Service) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (str(item).partition("=") for item in env)
        return {key: value for key, _, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def has_healthcheck(service: Service) -> bool:
    check = service.get("healthcheck")
    if not check or check.get("disable"):
        return False
    test = check.get("test")
    return bool(test) and test != ["NONE"]
