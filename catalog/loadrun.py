"""The benchmark's moving parts: the service under uvicorn on one core, Locust on the other, what they saw.

The server is pinned with ``taskset`` to CPU 0 and Locust to CPU 1 (when there are two cores and taskset), so
the load generator never steals the server's CPU. Locust runs as a subprocess (it monkey-patches with gevent)
with a hard timeout; the server is always stopped. ``queries_per_request`` comes from the service's own
``catalog_db_queries_per_request`` histogram, read from ``/metrics`` before and after a run.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import redis
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "loadtests" / "catalog.py"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: int | None) -> list[str]:
    if cpu is None or shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return []
    return ["taskset", "-c", str(cpu)]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def catalog_server(env: Mapping[str, str], workdir: Path, cpu: int | None = 0) -> Iterator[str]:
    """``uvicorn catalog.service:create_app --factory`` on a free loopback port; yields the base URL."""
    port = free_port()
    log_path = workdir / "uvicorn.log"
    args = [
        *pinned(cpu),
        sys.executable,
        "-m",
        "uvicorn",
        "catalog.service:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the catalog exited: {log_path.read_text(errors='replace')[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError("the catalog did not become ready in 60 s")
                time.sleep(0.2)
            yield base_url
        finally:
            _stop(process)


@dataclass(frozen=True)
class Load:
    users: int
    duration_s: float


def run_locust(
    base_url: str,
    targets: Path,
    *,
    endpoint: str,
    version: str,
    load: Load,
    workdir: Path,
    cpu: int | None = 1,
) -> Path:
    """One headless run; returns the per-request CSV the locustfile wrote."""
    request_log = workdir / f"{endpoint}-{version}.csv"
    env = {
        **os.environ,
        "CATALOG_TARGETS": str(targets),
        "CATALOG_ENDPOINT": endpoint,
        "CATALOG_VERSION": version,
        "CATALOG_REQUEST_LOG": str(request_log),
    }
    args = [
        *pinned(cpu),
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        base_url,
        "-u",
        str(load.users),
        "-r",
        str(load.users),
        "-t",
        f"{load.duration_s:g}s",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "30",
    ]
    out_path = workdir / f"locust-{endpoint}-{version}.log"
    with out_path.open("wb") as out:
        result = subprocess.run(
            args,
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=load.duration_s + 120,
            check=False,
        )
    if result.returncode != 0 or not request_log.exists():
        tail = out_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(
            f"locust {endpoint} {version} failed its thresholds (exit {result.returncode}):\n{tail}"
        )
    return request_log


def summarise(request_log: Path, duration_s: float, endpoint: str) -> dict[str, float]:
    with request_log.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["endpoint"] == endpoint]
    ok = [r for r in rows if 200 <= int(r["status"]) < 400]
    latencies = np.array([float(r["latency_ms"]) for r in ok]) if ok else np.array([float("nan")])
    return {
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p95_ms": round(float(np.percentile(latencies, 95)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "rps": round(len(ok) / duration_s, 1),
        "bytes": round(float(np.mean([int(r["bytes"]) for r in ok])) if ok else 0.0),
        "requests": len(rows),
        "errors": len(rows) - len(ok),
    }


def query_totals(base_url: str) -> dict[str, tuple[float, float]]:
    """route -> (sum of queries, requests) from ``catalog_db_queries_per_request``."""
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    totals: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "catalog_db_queries_per_request":
            continue
        for sample in family.samples:
            route = sample.labels.get("route", "")
            entry = totals.setdefault(route, [0.0, 0.0])
            if sample.name.endswith("_sum"):
                entry[0] = sample.value
            elif sample.name.endswith("_count"):
                entry[1] = sample.value
    return {route: (s, c) for route, (s, c) in totals.items()}


def queries_per_request(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]], route: str
) -> float:
    """Statements per request on ``route`` between the two readings."""
    s0, c0 = before.get(route, (0.0, 0.0))
    s1, c1 = after.get(route, (0.0, 0.0))
    return round((s1 - s0) / (c1 - c0), 2) if c1 > c0 else float("nan")


def redis_or_none(url: str) -> str | None:
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        return None
    finally:
        client.close()
    return url


def delete_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
