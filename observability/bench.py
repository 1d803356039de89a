"""``make bench-observability``: what our instrumentation costs in requests/s on a trivial endpoint.

Four single-worker uvicorn servers run the same ``GET /ping`` app: ``bare`` (plain FastAPI), ``ours`` (our RED
metrics middleware only), ``anchor`` (prometheus-fastapi-instrumentator with its default metrics, the common
choice) and ``full`` (the whole ``instrument()`` stack: request ids, one JSON access line per request written
to /dev/null, metrics, tracing without an exporter). The servers are pinned to one core and ``wrk`` to the
other (``taskset``), traffic stays on loopback, and the variants take turns in several short rounds (rotating
who goes first) so that drift in the machine's load hits all of them alike; each figure is the median of its
rounds. A trivial endpoint is the worst case for overhead: a real handler's own work dilutes these per-request
costs. Targets: ours >= 90% of bare and >= anchor.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from observability.results import write_results

VARIANTS = ("bare", "ours", "anchor", "full")
SERVER_CPU = "1"
CLIENT_CPU = "0"
ENDPOINT = "/ping"
SERVICE = "bench"
_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def _ping_app() -> FastAPI:
    app = FastAPI()

    @app.get(ENDPOINT)
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app


def bare_app() -> FastAPI:
    return _ping_app()


def ours_app() -> FastAPI:
    from observability.metrics import MetricsMiddleware  # noqa: PLC0415 - each variant imports only its own

    app = _ping_app()
    app.add_middleware(MetricsMiddleware, service=SERVICE)
    return app


def anchor_app() -> FastAPI:
    from prometheus_fastapi_instrumentator import Instrumentator  # noqa: PLC0415

    app = _ping_app()
    Instrumentator().instrument(app)
    return app


def full_app() -> FastAPI:
    from observability import instrument  # noqa: PLC0415

    app = _ping_app()
    instrument(app, service=SERVICE)
    return app


@dataclass(frozen=True)
class WrkSettings:
    threads: int
    connections: int
    duration_s: float
    warmup_s: float
    rounds: int


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _servers(logdir: Path) -> Iterator[dict[str, str]]:
    """Start one uvicorn per variant, pin it to the server core once it answers; yield URLs; always stop them.

    Pinning after start-up lets the four servers import on both cores; ``taskset -a`` pins every thread, and
    threads started later inherit the affinity.
    """
    unset = {"OTEL_EXPORTER_OTLP_ENDPOINT", "PROMETHEUS_MULTIPROC_DIR"}
    env = {name: value for name, value in os.environ.items() if name not in unset}
    env["LOG_LEVEL"] = "INFO"  # the full stack writes its access line per request, as in production
    processes: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        for variant in VARIANTS:
            port = _free_port()
            args = [sys.executable, "-m", "uvicorn", "--factory",
                    f"observability.bench:{variant}_app", "--host", "127.0.0.1", "--port", str(port),
                    "--no-access-log", "--log-level", "warning"]  # fmt: skip
            with (logdir / f"{variant}.err").open("wb") as err:
                # stdout (the full stack's JSON logs) goes to /dev/null: a terminal would measure the terminal
                processes.append(subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err))
            urls[variant] = f"http://127.0.0.1:{port}{ENDPOINT}"
        for (variant, url), process in zip(urls.items(), processes, strict=True):
            _wait_ready(url, process, logdir / f"{variant}.err")
            subprocess.run(["taskset", "-a", "-p", "-c", SERVER_CPU, str(process.pid)], check=True,
                           capture_output=True)  # fmt: skip
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout_s:.0f}s")


def run_wrk(url: str, duration_s: float, settings: WrkSettings) -> float:
    """Requests/s of one wrk run, pinned to the client core."""
    args = ["taskset", "-c", CLIENT_CPU, "wrk", f"-t{settings.threads}", f"-c{settings.connections}",
            f"-d{max(1, round(duration_s))}s", "--timeout", "10s", url]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=duration_s + 60).stdout
    return parse_wrk(out)


def parse_wrk(output: str) -> float:
    """Requests/s from wrk's report; a run with non-2xx answers or socket errors is refused."""
    rps = _RPS.search(output)
    if rps is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    non_2xx = _NON_2XX.search(output)
    socket_errors = _SOCKET_ERRORS.search(output)
    if (non_2xx and int(non_2xx.group(1))) or (socket_errors and any(int(g) for g in socket_errors.groups())):
        raise RuntimeError(f"wrk saw errors:\n{output}")
    return float(rps.group(1))


def measure(settings: WrkSettings, logdir: Path) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    with _servers(logdir) as urls:
        for variant in VARIANTS if settings.warmup_s else ():  # warm-up: first-request caches, CPU clocks
            run_wrk(urls[variant], settings.warmup_s, settings)
        for round_ in range(settings.rounds):
            order = VARIANTS[round_ % len(VARIANTS) :] + VARIANTS[: round_ % len(VARIANTS)]
            for variant in order:
                samples[variant].append(run_wrk(urls[variant], settings.duration_s, settings))
            figures = ", ".join(f"{v} {samples[v][-1]:,.0f}" for v in VARIANTS)
            print(f"round {round_ + 1}/{settings.rounds}: {figures}")
    return samples


def summarise(samples: dict[str, list[float]], settings: WrkSettings) -> dict[str, Any]:
    median = {variant: statistics.median(values) for variant, values in samples.items()}
    return {
        "bare_rps": round(median["bare"], 1),
        "ours_rps": round(median["ours"], 1),
        "anchor_rps": round(median["anchor"], 1),
        "full_rps": round(median["full"], 1),
        "ours_vs_bare": round(median["ours"] / median["bare"], 3),
        "ours_vs_anchor": round(median["ours"] / median["anchor"], 3),
        "wrk": {
            "threads": settings.threads,
            "connections": settings.connections,
            "duration_s": settings.duration_s,
            "warmup_s": settings.warmup_s,
            "rounds": settings.rounds,
            "statistic": "median of rounds",
            "server": f"uvicorn, 1 worker, taskset -a -p -c {SERVER_CPU}",
            "client": f"wrk, taskset -c {CLIENT_CPU}",
            "endpoint": f"GET {ENDPOINT}",
        },
    }


def _check_tools() -> None:
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"bench-observability needs {' and '.join(missing)} (Debian: apt-get install wrk)")
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("bench-observability needs two CPU cores: one for the server, one for wrk")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="2 rounds of 1 s, no warm-up, results in a temp dir"
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--results-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    _check_tools()
    if args.quick:
        args.rounds, args.duration, args.warmup = 2, 1.0, 0.0
        args.results_dir = args.results_dir or Path(tempfile.mkdtemp(prefix="bench-observability-"))
    settings = WrkSettings(1, args.connections, args.duration, args.warmup, args.rounds)
    with tempfile.TemporaryDirectory(prefix="bench-observability-logs-") as logdir:
        samples = measure(settings, Path(logdir))
    data = summarise(samples, settings)
    path = write_results(
        "observability", data, command="make bench-observability", results_dir=args.results_dir
    )
    ratio_bare, ratio_anchor = data["ours_vs_bare"], data["ours_vs_anchor"]
    print(
        f"bare {data['bare_rps']:,} rps | ours {data['ours_rps']:,} ({ratio_bare:.1%} of bare, "
        f"{ratio_anchor:.2f}x anchor) | anchor {data['anchor_rps']:,} | full {data['full_rps']:,}"
    )
    print(f"targets: ours >= 90% of bare: {ratio_bare >= 0.9}; ours >= anchor: {ratio_anchor >= 1}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
