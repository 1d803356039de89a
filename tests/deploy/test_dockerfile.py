"""deploy/Dockerfile builds the one project image: multi-stage, installed the way `make` installs (pinned by
constraints.txt, without the dev extra), run as a non-root user."""

from __future__ import annotations

import re

import pytest

from tests.deploy import dockerfile as df
from tests.deploy.entry_points import command_problems
from tests.deploy.layout import DOCKERFILE, DOCKERIGNORE, ROOT, console_scripts, pyproject

pytestmark = pytest.mark.unit

PIP_INSTALL = re.compile(r"pip install (?P<args>[^&;]+)")


@pytest.fixture(scope="module")
def image() -> df.Dockerfile:
    return df.parse(DOCKERFILE)


def pip_installs(stage: df.Stage) -> list[list[str]]:
    """Argument lists of every ``pip install`` in a stage's RUN instructions."""
    return [match["args"].split() for run in stage.all("RUN") for match in PIP_INSTALL.finditer(run)]


def makefile_constraints() -> str:
    """The constraints file `make install` passes to pip (``-c FILE``)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"pip install[^\n]*?-c (\S+)", makefile)
    assert match, "the Makefile installs with pip -c <constraints>"
    return match[1]


def test_dockerfile_is_multi_stage_and_the_runtime_copies_the_builders_venv(image: df.Dockerfile) -> None:
    assert len(image.stages) >= 2
    builders = {stage.name for stage in image.stages[:-1]}
    runtime = image.stages[-1]
    copies = [value for value in runtime.all("COPY") if df.copy_from(value) in builders]
    assert any("/opt/venv" in value for value in copies), "the runtime stage copies the venv from the builder"
    assert not pip_installs(runtime), "nothing is installed in the runtime stage: it only receives the venv"


def test_every_stage_uses_the_same_pinned_base_image(image: df.Dockerfile) -> None:
    """The venv's python is a symlink into the base image, so builder and runtime must share it."""
    bases = {image.resolved_image(stage) for stage in image.stages}
    assert len(bases) == 1, bases
    base = bases.pop()
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base), (
        f"a pinned slim Python 3.11 image, got {base}"
    )


def test_builder_installs_the_project_with_the_constraints_make_uses_and_without_dev_extras(
    image: df.Dockerfile,
) -> None:
    constraints = makefile_constraints()
    installs = [args for stage in image.stages[:-1] for args in pip_installs(stage)]
    project = [args for args in installs if "." in args]
    assert len(project) == 1, f"one `pip install ... .` of the project, got {installs}"
    args = project[0]
    assert args[args.index("-c") + 1] == constraints
    assert "-e" not in args
    assert not any("[dev]" in arg for arg in args)
    assert (ROOT / constraints).is_file()


def test_runtime_runs_as_a_non_root_user(image: df.Dockerfile) -> None:
    users = image.stages[-1].all("USER")
    assert users, "the runtime stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_runtime_writes_python_output_unbuffered(image: df.Dockerfile) -> None:
    env = " ".join(image.stages[-1].all("ENV"))
    assert re.search(r"\bPYTHONUNBUFFERED=1\b", env)


def test_default_command_starts_something_that_exists(image: df.Dockerfile) -> None:
    commands = image.stages[-1].all("CMD")
    assert commands
    assert command_problems(df.exec_form(commands[-1]), ROOT, console_scripts()) == []


def test_build_context_keeps_what_pip_install_needs_and_drops_local_state() -> None:
    patterns = df.ignore_patterns(DOCKERIGNORE)
    assert not any(pattern.startswith("!") for pattern in patterns), "keep the ignore file exclusions-only"
    project = pyproject()
    needed = ["pyproject.toml", makefile_constraints(), project["project"]["readme"], "results"]
    packages = project["tool"]["setuptools"]["packages"]["find"]["include"]
    needed += [p.rstrip("*") for p in packages if (ROOT / p.rstrip("*")).is_dir()]
    kept_out = [path for path in needed if df.is_ignored(path, patterns)]
    assert not kept_out, f"the build needs these but the ignore file drops them: {kept_out}"
    for local in (".venv", ".git", "observability/__pycache__", "tests"):
        assert df.is_ignored(local, patterns), f"{local} should stay out of the build context"
