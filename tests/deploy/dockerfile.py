"""A small Dockerfile reader: global ARGs and stages of instructions, enough for the deploy tests to state
rules about the image (multi-stage, how it installs, who it runs as) without a Docker engine."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case, e.g. "RUN"
    value: str  # arguments, continuation lines joined


@dataclass
class Stage:
    image: str  # as written after FROM, e.g. "${PYTHON_IMAGE}"
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [i.value for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    args: dict[str, str]  # global ARG defaults (before the first FROM)
    stages: list[Stage]

    def resolved_image(self, stage: Stage) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: self.args.get(m[1], m[0]), stage.image)


def logical_lines(text: str) -> list[str]:
    """Join ``\\``-continued lines; drop comments, parser directives and blank lines."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # comments inside a continued instruction are allowed and ignored
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current:
        lines.append(current)
    return lines


def parse(path: Path) -> Dockerfile:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines(path.read_text(encoding="utf-8")):
        keyword, _, value = line.partition(" ")
        keyword, value = keyword.upper(), value.strip()
        if keyword == "FROM":
            parts = value.split()
            image = next(p for p in parts if not p.startswith("--"))
            upper = [part.upper() for part in parts]
            name = parts[upper.index("AS") + 1] if "AS" in upper else None
            stages.append(Stage(image, name))
        elif not stages:
            if keyword == "ARG":
                key, _, default = value.partition("=")
                args[key] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, value))
    return Dockerfile(args, stages)


def exec_form(value: str) -> list[str]:
    """``["a", "b"]`` (exec form) or a shell-form string, as argv."""
    if value.startswith("["):
        argv: list[str] = json.loads(value)
        return argv
    return shlex.split(value)


def copy_from(value: str) -> str | None:
    match = re.search(r"--from=(\S+)", value)
    return match[1] if match else None


def ignore_patterns(path: Path) -> list[str]:
    return [
        line.strip().lstrip("/")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def is_ignored(relative: str, patterns: list[str]) -> bool:
    """Whether a .dockerignore excludes ``relative`` (or one of its parents). Exclusions only; a ``!``
    re-include makes the answer depend on order, so callers assert there is none."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, pattern):
                return True
            if pattern.startswith("**/") and any(
                fnmatch.fnmatchcase("/".join(candidate.split("/")[i:]), pattern[3:])
                for i in range(candidate.count("/") + 1)
            ):
                return True
    return False
