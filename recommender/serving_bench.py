"""The ``serving`` block of ``results/recommender.json``: the service under load, measured with Locust.

The bench's trained model is written as an artifact and served by ``uvicorn`` (the real service, embedded
mode:
in-process cache and history, so the figure is the service's own cost) pinned to CPU 0; Locust
(``loadtests/recommender.py``, a subprocess, on CPU 1) first runs closed-loop to find ``max_rps``, then
offers 70% of it and reports the latency there: ``p50_ms``/``p99_ms`` of computed (uncached) lists and
``cached_p99_ms`` of cache hits, against the targets (30 ms and 10 ms). Registered in
:data:`recommender.bench.EXTRA_SECTIONS` by :func:`register_serving`, which the bench calls.
"""

from __future__ import annotations

import contextlib
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from ratelimit.benchkit import cores, free_port, pinned
from recommender.ann import ItemIndex
from recommender.artifact import save
from recommender.data.interactions import Interactions
from recommender.models.als import ALS

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "loadtests" / "recommender.py"
LOAD_SHARE = 0.7
TARGET_P99_MS = 30.0
TARGET_CACHED_P99_MS = 10.0


def _locust(
    base_url: str, users: list[str], workdir: Path, name: str, *, seconds: float, rate: float
) -> Path:
    log = workdir / f"{name}.csv"
    env = {
        **os.environ,
        "RECOMMENDER_USER_IDS": ",".join(users),
        "RECOMMENDER_RATE": str(rate),
        "RECOMMENDER_REQUEST_LOG": str(log),
    }
    concurrency = 16
    args = pinned(
        cores()[1],
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            base_url,
            "-u",
            str(concurrency),
            "-r",
            str(concurrency),
            "-t",
            f"{seconds:g}s",
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "10",
        ],
    )
    out = workdir / f"locust-{name}.log"
    with out.open("wb") as handle:
        done = subprocess.run(
            args,
            env=env,
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=seconds + 120,
            check=False,
        )
    if done.returncode != 0 or not log.exists():
        raise RuntimeError(
            f"locust {name} failed (exit {done.returncode}):\n{out.read_text(errors='replace')[-3000:]}"
        )
    return log


def _rows(log: Path) -> list[tuple[str, int, float]]:
    with log.open(newline="", encoding="utf-8") as handle:
        return [(r["cache"], int(r["status"]), float(r["latency_ms"])) for r in csv.DictReader(handle)]


def _p(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def summarise(max_log: Path, max_seconds: float, load_log: Path, load_seconds: float) -> dict[str, Any]:
    ok_max = [r for r in _rows(max_log) if r[1] == 200]
    rows = [r for r in _rows(load_log) if r[1] == 200]
    computed = [ms for cache, _s, ms in rows if cache != "hit"]
    cached = [ms for cache, _s, ms in rows if cache == "hit"]
    p99, cached_p99 = _p(computed, 99), _p(cached, 99)
    return {
        "max_rps": round(len(ok_max) / max_seconds, 1),
        "rps": round(len(rows) / load_seconds, 1),
        "p50_ms": _p(computed, 50),
        "p99_ms": p99,
        "cached_p50_ms": _p(cached, 50),
        "cached_p99_ms": cached_p99,
        "cached_share": round(len(cached) / len(rows), 3) if rows else 0.0,
        "target_p99_ms": TARGET_P99_MS,
        "target_cached_p99_ms": TARGET_CACHED_P99_MS,
        "meets_targets": bool(p99 <= TARGET_P99_MS and cached_p99 <= TARGET_CACHED_P99_MS),
    }


@contextlib.contextmanager
def served(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """``uvicorn recommender.service:create_app --factory`` pinned to CPU 0 on a free port; yields its URL."""
    port = free_port()
    args = pinned(
        cores()[0],
        [
            sys.executable,
            "-m",
            "uvicorn",
            "recommender.service:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            # uvicorn's fastest stock settings, stated rather than left to "auto" (as in spike_bench.py)
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--no-server-header",
            "--log-level",
            "warning",
        ],
    )
    log_path = workdir / "uvicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"the recommender exited: {log_path.read_text(errors='replace')[-2000:]}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError("the recommender did not become ready in 120 s")
                time.sleep(0.2)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def measure_serving(context: dict[str, Any]) -> dict[str, Any]:
    """Serve the bench's model, find max_rps, measure at 70% of it."""
    interactions: Interactions = context["interactions"]
    model: ALS = context["model"]
    max_seconds, load_seconds = (2.0, 2.0) if context.get("quick") else (30.0, 60.0)
    with tempfile.TemporaryDirectory(prefix="recommender-serving-") as tmp:
        workdir = Path(tmp)
        index = ItemIndex.build(model.item_factors)
        save(workdir / "models", model, interactions, engine="numpy", metrics={}, index=index)
        env = {
            "BACKEND_ANSWERS_MODE": "embedded",
            "RECOMMENDER_MODELS_DIR": str(workdir / "models"),
            "LOG_LEVEL": "WARNING",
            "OTEL_SDK_DISABLED": "true",
        }
        users = [str(u) for u in interactions.user_ids.tolist()]
        with served(env, workdir) as base_url:
            max_log = _locust(base_url, users, workdir, "max", seconds=max_seconds, rate=0.0)
            max_rps = len([r for r in _rows(max_log) if r[1] == 200]) / max_seconds
            load_log = _locust(
                base_url, users, workdir, "load", seconds=load_seconds, rate=LOAD_SHARE * max_rps
            )
        return summarise(max_log, max_seconds, load_log, load_seconds)


def register_serving(sections: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]]) -> None:
    """Add the ``serving`` section to the bench's :data:`~recommender.bench.EXTRA_SECTIONS` (once)."""
    if all(key != "serving" for key, _ in sections):
        sections.append(("serving", measure_serving))
