"""Every replication test must leave no harness folder and no server process behind, pass or fail."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from replication.processes import TEMP_PREFIX, alive


def harness_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"))


def harness_processes() -> set[int]:
    """Pids working anywhere under a harness folder (also when that folder was deleted under them)."""
    prefix = str(Path(tempfile.gettempdir()) / TEMP_PREFIX)
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = str(Path(entry / "cwd").readlink())
            except OSError:
                continue
            if cwd.startswith(prefix) and alive(int(entry.name)):
                found.add(int(entry.name))
    return found


@pytest.fixture
def nothing_left_behind() -> Iterator[None]:
    dirs_before, procs_before = harness_dirs(), harness_processes()
    yield
    assert harness_dirs() - dirs_before == set(), "a harness folder survived"
    assert harness_processes() - procs_before == set(), "a harness process survived"
