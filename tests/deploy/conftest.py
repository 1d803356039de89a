"""Fixtures of the deploy tests: the promtool binary (never skipped: CI installs it)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.deploy.layout import ROOT

Promtool = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    """Run ``promtool ARGS...`` from the repository root; fails (not skips) when promtool is missing."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is not installed: `apt-get install prometheus` (.ci/run installs it)")

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )

    return run
