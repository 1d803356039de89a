"""Write measured results with the metadata that makes them reproducible (DESIGN.md, "Benchmarks").

Only ``make bench-<topic>`` calls this; answers quote the values by figure key (``topic.path.to.value``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=RESULTS_DIR.parent,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def _postgres_version(database_url: str | None) -> str | None:
    if not database_url:
        return None
    try:
        import psycopg  # noqa: PLC0415 - optional at write time

        with psycopg.connect(database_url, connect_timeout=2) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except Exception:
        return None
    return str(row[0]) if row else None


def _redis_version(redis_url: str | None) -> str | None:
    if not redis_url:
        return None
    try:
        import redis  # noqa: PLC0415

        client = redis.Redis.from_url(redis_url, socket_timeout=2)
        info = client.info("server")
        client.close()
    except Exception:
        return None
    return str(info.get("redis_version"))


def metadata(command: str, database_url: str | None = None, redis_url: str | None = None) -> dict[str, Any]:
    """What was run, on what, when: enough to judge whether two results files are comparable."""
    return {
        "command": command,
        "git_commit": _git_commit(),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "postgresql": _postgres_version(database_url),
        "redis": _redis_version(redis_url),
        "argv": sys.argv[1:],
    }


def write_results(
    topic: str,
    data: dict[str, Any],
    *,
    command: str,
    database_url: str | None = None,
    redis_url: str | None = None,
    results_dir: Path | None = None,
) -> Path:
    """Write ``results/<topic>.json`` as ``{"meta": {...}, **data}`` and return its path."""
    if "meta" in data:
        raise ValueError("'meta' is reserved for the metadata this function adds")
    target_dir = results_dir or RESULTS_DIR
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / f"{topic}.json"
    payload = {"meta": metadata(command, database_url, redis_url), **data}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a file
    return path
