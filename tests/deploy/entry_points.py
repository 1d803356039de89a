"""Does a container's command start something that exists in this project?

A compose ``command`` or a Dockerfile ``CMD`` is only text until a container runs it, and no Docker engine
runs in CI, so a renamed module or console script would go unnoticed. These checks resolve the command the
way the container would: ``uvicorn module:attr [--factory]``, ``python -m module``, or a console script from
``[project.scripts]`` (and its subcommand, for a typer/click CLI). Each returns a list of problems, empty
when the command is sound.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import typer

MODULE_ATTR = re.compile(r"^(?P<module>[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_]\w*)$")
PYTHONS = frozenset({"python", "python3", "python3.11"})


def module_file(root: Path, module: str) -> Path | None:
    """The project file that ``import module`` loads: ``a/b.py`` or ``a/b/__init__.py`` under ``root``."""
    parts = module.split(".")
    for candidate in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
        if candidate.is_file():
            return candidate
    return None


def target_problems(root: Path, target: str, *, factory: bool = False) -> list[str]:
    """``module:attr`` names a project file that defines ``attr`` (a factory callable with no arguments)."""
    match = MODULE_ATTR.match(target)
    if match is None:
        return [f"{target!r} is not of the form module:attribute"]
    module, attr = match["module"], match["attr"]
    if module_file(root, module) is None:
        return [f"{target}: no file for module {module!r} in the project ({module.replace('.', '/')}.py)"]
    obj = getattr(importlib.import_module(module), attr, None)
    if obj is None:
        return [f"{target}: module {module!r} has no attribute {attr!r}"]
    if factory:
        if not callable(obj):
            return [f"{target}: --factory needs a callable, got {type(obj).__name__}"]
        try:
            inspect.signature(obj).bind()
        except TypeError:
            return [f"{target}: --factory calls it with no arguments, but it requires some"]
    return []


def subcommand_problems(target: str, subcommand: str) -> list[str]:
    """A console script's first argument is one of its CLI's commands."""
    match = MODULE_ATTR.match(target)
    assert match is not None
    obj = getattr(importlib.import_module(match["module"]), match["attr"])
    command = typer.main.get_command(obj) if isinstance(obj, typer.Typer) else obj
    # a click-style group (typer vendors its own click, so duck-typing beats isinstance)
    commands = getattr(command, "commands", None)
    if not isinstance(commands, Mapping):
        return []  # a single-command CLI: its arguments are not subcommands
    if subcommand not in commands:
        return [f"{target}: no subcommand {subcommand!r} (has {', '.join(sorted(commands))})"]
    return []


def _uvicorn_problems(args: list[str], root: Path) -> list[str]:
    apps = [arg for arg in args if MODULE_ATTR.match(arg)]
    if len(apps) != 1:
        return [f"uvicorn needs exactly one module:attribute app, got {args}"]
    return target_problems(root, apps[0], factory="--factory" in args)


def _python_problems(args: list[str], root: Path) -> list[str]:
    if args[:1] == ["-c"]:
        return []  # inline code, e.g. a health check: nothing to resolve
    if args[:1] != ["-m"] or len(args) < 2:
        return [f"python {' '.join(args)}: run a module with -m, not a script path"]
    found = module_file(root, args[1])
    if found is None:
        return [f"python -m {args[1]}: no such module in the project"]
    if found.name == "__init__.py" and not (found.parent / "__main__.py").is_file():
        return [f"python -m {args[1]}: a package without __main__.py"]
    return []


def _script_problems(target: str, args: list[str], root: Path) -> list[str]:
    problems = target_problems(root, target)
    if not problems and args and not args[0].startswith("-"):
        problems = subcommand_problems(target, args[0])
    return problems


def command_problems(argv: Sequence[str], root: Path, scripts: Mapping[str, str]) -> list[str]:
    """Everything wrong with running ``argv`` in the project image (empty list: it starts what it names)."""
    if not argv:
        return ["empty command"]
    program, args = argv[0], list(argv[1:])
    if program == "uvicorn":
        return _uvicorn_problems(args, root)
    if program in PYTHONS:
        return _python_problems(args, root)
    if program in scripts:
        return _script_problems(scripts[program], args, root)
    return [f"{program!r} is neither uvicorn, python nor a console script in [project.scripts]"]
