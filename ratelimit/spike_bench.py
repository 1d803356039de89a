"""The spike benchmark: does shedding keep admitted requests as fast as at normal load during a 10x spike?

``python -m ratelimit.spike_bench`` (part of ``make bench-ratelimit``) starts ``loadtests.spike_app`` under
uvicorn pinned to CPU 0 and Locust (``loadtests/spike.py``, headless, bounded) pinned to CPU 1, so the load
generator never steals the server's core. Steady load, then ten times as many listeners for 30 s, then steady
again. Every response is logged by the locustfile; we compute, per phase and per second:

- ``steady_p99_ms`` / ``spike_p99_ms``: p99 latency of *admitted* (2xx) requests in each phase;
- ``admitted``, ``limited_429`` (rate limiter), ``shed_503`` (load shedder, our ``overloaded`` code) and
  ``errors_5xx`` (every other 5xx, and requests that got no response at all) over the whole run;
- ``server_cpu_percent.steady`` / ``.spike``: the share of its one core the server process used, which says
  whether the CPU (rather than the shedder's bound) was the queue; ``generator_cpu_percent`` the same for
  Locust, and ``spike_per_s.answered`` against ``capacity.spike_offered_rps`` whether it kept up.

Targets: ``errors_5xx == 0`` and ``spike_p99_ms <= 2 * steady_p99_ms``. Writes ``results/spike.json`` through
``write_results`` and ``results/spike.png``; ``--quick`` runs a few seconds into a temporary directory.

The server runs with uvicorn's fastest stock settings (uvloop, httptools, no access log, no Server or Date
header) and a keep-alive timeout longer than the run: a load balancer keeps its connections to an instance
pooled, so the spike must not start with hundreds of reconnections that no real instance would see.

The offered load is budgeted for one server core. Steady: ``steady_users`` listeners at ``listener_rps`` plus
the scraper, about 50 requests a second; the spike is ten times the listeners, about 410 a second. The app
admits at most what its "database" serves (``db_concurrency`` / ``db_latency_ms``, 160 a second at most, less
with Poisson arrivals and the critical reserve); the rest are shed. An admitted request (routing,
pydantic-free JSON, access log, metrics, tracing, a Redis round trip) costs on the order of a millisecond of
CPU, a shed one (a raw ASGI 503 at the edge) on the order of a tenth of that, so the spike needs well under
half of a core and the CPU stays out of the admitted requests' latency. A 10x spike on a much larger steady
load would not: past what one core can even *refuse* (thousands a second), only more instances, or shedding
in front of the process (a balancer's connection limit), help, and this bench would then be measuring the
machine rather than the shedder.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import redis

from observability.results import write_results
from ratelimit.spike_cpu import CpuSampler

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "loadtests" / "spike.py"
TOPIC = "spike"
COMMAND = "make bench-ratelimit"
DELIBERATE_503 = {"overloaded", "rate_limiter_unavailable"}


@dataclass(frozen=True)
class SpikeConfig:
    """One scenario: Locust's shape and the target app's capacity (given to both as ``SPIKE_*`` variables)."""

    warmup_s: float = 10
    steady_s: float = 30
    spike_s: float = 30
    recovery_s: float = 15
    steady_users: int = 40
    multiplier: float = 10
    listener_rps: float = 1.0
    scraper_rps: float = 10.0
    # The shedder's bound equals what the app's one scarce resource (a "database" serving ``db_concurrency``
    # queries of ``db_latency_ms`` at once) can take: admitted requests never queue for it, so they stay as
    # fast as at normal load; a larger bound would only move the queue inside the process.
    max_in_flight: int = 8
    db_concurrency: int = 8
    db_latency_ms: float = 50
    # CoDel target for the event loop's lag (0: in-flight bound only); see ratelimit.queue_delay
    queue_target_ms: float = 10

    @property
    def duration_s(self) -> float:
        return self.warmup_s + self.steady_s + self.spike_s + self.recovery_s

    @property
    def steady_window(self) -> tuple[float, float]:
        return self.warmup_s, self.warmup_s + self.steady_s

    @property
    def spike_window(self) -> tuple[float, float]:
        start = self.warmup_s + self.steady_s
        return start, start + self.spike_s

    @property
    def steady_offered_rps(self) -> float:
        return self.steady_users * self.listener_rps + self.scraper_rps

    @property
    def spike_offered_rps(self) -> float:
        return round(self.steady_users * self.multiplier) * self.listener_rps + self.scraper_rps

    @property
    def admit_ceiling_rps(self) -> float:
        """What the app's "database" can serve at most; Poisson arrivals and the critical reserve get less."""
        return self.db_concurrency / (self.db_latency_ms / 1000)

    def env(self) -> dict[str, str]:
        return {f"SPIKE_{name.upper()}": str(value) for name, value in asdict(self).items()}


FULL = SpikeConfig()
# a small machine-friendly run whose spike still overloads the (smaller) app, so 429s and 503s both show
QUICK = SpikeConfig(
    warmup_s=2, steady_s=5, spike_s=5, recovery_s=2, steady_users=12, max_in_flight=4, db_concurrency=4
)


@dataclass(frozen=True, slots=True)
class Sample:
    t_s: float
    route: str
    status: int
    code: str
    latency_ms: float

    @property
    def outcome(self) -> str:
        """admitted, limited, shed, error (accidental 5xx or no response), or other (an unplanned 4xx)."""
        if 200 <= self.status < 300:
            return "admitted"
        if self.status == 429:
            return "limited"
        if self.status == 503 and self.code in DELIBERATE_503:
            return "shed"
        if self.status >= 500 or self.status == 0:
            return "error"
        return "other"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pinned(cpu: int | None) -> list[str]:
    """``taskset -c N`` when we can pin (2+ cores and taskset installed), else nothing."""
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
def spike_server(
    config: SpikeConfig,
    workdir: Path,
    *,
    redis_url: str | None,
    prefix: str,
    cpu: int | None = 0,
    pids: list[int] | None = None,
) -> Iterator[str]:
    """Run the spike target app under uvicorn on a free loopback port; yield its base URL; always stop it."""
    port = _free_port()
    env = {**os.environ, **config.env(), "SPIKE_REDIS_URL": redis_url or "", "SPIKE_REDIS_PREFIX": prefix}
    log = (workdir / "uvicorn.log").open("wb")
    keep_alive_s = str(int(config.duration_s) + 60)  # longer than the run: the "balancer" keeps them pooled
    args = [*_pinned(cpu), sys.executable, "-m", "uvicorn", "loadtests.spike_app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--no-server-header", "--no-date-header",
            "--timeout-keep-alive", keep_alive_s, "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if pids is not None:  # taskset execs uvicorn, so this is the server's own pid
        pids.append(process.pid)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the spike app exited: {(workdir / 'uvicorn.log').read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError("the spike app did not become ready in 30 s")
            time.sleep(0.1)
        yield base_url
    finally:
        _stop(process)
        log.close()


def run_locust(
    config: SpikeConfig, base_url: str, workdir: Path, *, cpu: int | None = 1, pids: list[int] | None = None
) -> Path:
    """Run the scenario headless in its own process (gevent) and return the per-request log it wrote."""
    request_log = workdir / "requests.csv"
    env = {**os.environ, **config.env(), "SPIKE_REQUEST_LOG": str(request_log)}
    args = [*_pinned(cpu), sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--host", base_url, "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
            "--stop-timeout", "2"]  # fmt: skip
    with (workdir / "locust.log").open("wb") as out:
        process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        if pids is not None:
            pids.append(process.pid)
        try:
            returncode = process.wait(timeout=config.duration_s + 60)
        finally:
            _stop(process)
    if returncode != 0 or not request_log.exists():
        tail = (workdir / "locust.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"locust failed (exit {returncode}):\n{tail}")
    return request_log


def read_log(path: Path) -> list[Sample]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Sample(float(row["t_s"]), row["route"], int(row["status"]), row["code"], float(row["latency_ms"]))
            for row in csv.DictReader(handle)
        ]


def p99(latencies: Sequence[float]) -> float:
    return float(np.percentile(latencies, 99)) if latencies else float("nan")


def summarise(samples: Sequence[Sample], config: SpikeConfig) -> dict[str, Any]:
    """The figures ``results/spike.json`` holds, exactly."""

    def admitted_latencies(window: tuple[float, float]) -> list[float]:
        start, end = window
        return [s.latency_ms for s in samples if start <= s.t_s < end and s.outcome == "admitted"]

    outcomes = [s.outcome for s in samples]
    spike_start, spike_end = config.spike_window
    during_spike = [s.outcome for s in samples if spike_start <= s.t_s < spike_end]
    return {
        "steady_p99_ms": round(p99(admitted_latencies(config.steady_window)), 2),
        "spike_p99_ms": round(p99(admitted_latencies(config.spike_window)), 2),
        "admitted": outcomes.count("admitted"),
        "limited_429": outcomes.count("limited"),
        "shed_503": outcomes.count("shed"),
        "errors_5xx": outcomes.count("error"),
        "spike_per_s": {
            outcome: round(during_spike.count(outcome) / config.spike_s, 1)
            for outcome in ("admitted", "limited", "shed")
        }
        | {"answered": round(len(during_spike) / config.spike_s, 1)},  # below offered: the generator lagged
        # the scenario's budget, so an answer quotes it from here rather than typing it
        "capacity": {
            "steady_offered_rps": config.steady_offered_rps,
            "spike_offered_rps": config.spike_offered_rps,
            "multiplier": config.multiplier,
            "spike_s": config.spike_s,
            "max_in_flight": config.max_in_flight,
            "db_concurrency": config.db_concurrency,
            "db_latency_ms": config.db_latency_ms,
            "admit_ceiling_rps": config.admit_ceiling_rps,
            "queue_target_ms": config.queue_target_ms,
        },
    }


def plot(samples: Sequence[Sample], config: SpikeConfig, path: Path) -> None:
    """Admitted / limited / shed per second, and p99 of admitted latency per second, the spike shaded."""
    import matplotlib as mpl  # noqa: PLC0415 - only the bench draws

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    seconds = np.arange(int(config.duration_s) + 1)
    by_second: dict[str, np.ndarray[Any, Any]] = {
        k: np.zeros(len(seconds)) for k in ("admitted", "limited", "shed")
    }
    latencies: list[list[float]] = [[] for _ in seconds]
    for s in samples:
        i = min(int(s.t_s), len(seconds) - 1)
        if s.outcome in by_second:
            by_second[s.outcome][i] += 1
        if s.outcome == "admitted":
            latencies[i].append(s.latency_ms)
    p99s = [p99(bucket) for bucket in latencies]

    fig, (counts, latency) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    for outcome, colour in (("admitted", "tab:green"), ("limited", "tab:orange"), ("shed", "tab:red")):
        counts.plot(seconds, by_second[outcome], label=outcome, color=colour)
    counts.set_ylabel("responses per second")
    counts.legend(loc="upper left")
    latency.plot(seconds, p99s, color="tab:blue", label="p99 of admitted requests")
    latency.set_ylabel("latency (ms)")
    latency.set_xlabel("seconds since start")
    latency.set_ylim(bottom=0)
    latency.legend(loc="upper left")
    for axis in (counts, latency):
        axis.axvspan(*config.spike_window, color="grey", alpha=0.15, label="_spike")
        axis.grid(alpha=0.3)
    counts.set_title(
        f"{config.multiplier:g}x spike for {config.spike_s:g} s (shaded): limiter + load shedder"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _redis_or_none(url: str) -> str | None:
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        return None
    finally:
        client.close()
    return url


def _delete_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@dataclass(frozen=True)
class Run:
    samples: list[Sample]
    server_cpu_percent: dict[str, float | None]  # share of one core the server used, per phase
    generator_cpu_percent: dict[str, float | None]  # the same for Locust: near 100, it was the bottleneck


def run(config: SpikeConfig, workdir: Path, *, redis_url: str | None) -> Run:
    """One full scenario: server up, Locust run, server down; the per-request samples and the server's CPU."""
    prefix = f"spike-{uuid.uuid4().hex[:8]}:"
    pids: list[int] = []
    generator_pids: list[int] = []
    generator = CpuSampler(lambda: generator_pids[0] if generator_pids else None)
    try:
        with (
            spike_server(config, workdir, redis_url=redis_url, prefix=prefix, pids=pids) as base_url,
            CpuSampler(lambda: pids[0]) as server,  # entered after the server started, so pids[0] exists
            generator,
        ):
            request_log = run_locust(config, base_url, workdir, pids=generator_pids)
    finally:
        if redis_url:
            _delete_prefix(redis_url, prefix)
    started = float(request_log.with_suffix(".start").read_text(encoding="utf-8"))
    phases = {"steady": config.steady_window, "spike": config.spike_window}

    def busy(sampler: CpuSampler) -> dict[str, float | None]:
        return {name: sampler.busy_percent(started + a, started + b) for name, (a, b) in phases.items()}

    return Run(read_log(request_log), busy(server), busy(generator))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="a few seconds, written to a temporary directory"
    )
    parser.add_argument("--results-dir", type=Path, default=None, help="where to write spike.json/.png")
    parser.add_argument("--max-in-flight", type=int, default=None, help="override the shedder's bound")
    args = parser.parse_args(argv)

    config = QUICK if args.quick else FULL
    if args.max_in_flight is not None:
        config = replace(config, max_in_flight=args.max_in_flight)
    results_dir = args.results_dir or (Path(tempfile.mkdtemp(prefix="spike-bench-")) if args.quick else None)
    redis_url = _redis_or_none(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    if redis_url is None:
        print("Redis is not reachable: the limiter runs in memory for this run")
    print(f"spike scenario: {config}")

    with tempfile.TemporaryDirectory(prefix="spike-run-") as tmp:
        result = run(config, Path(tmp), redis_url=redis_url)
    samples = result.samples
    figures = {
        **summarise(samples, config),
        "server_cpu_percent": result.server_cpu_percent,
        "generator_cpu_percent": result.generator_cpu_percent,
    }
    path = write_results(TOPIC, figures, command=COMMAND, redis_url=redis_url, results_dir=results_dir)
    plot(samples, config, path.with_suffix(".png"))
    print(f"wrote {path} and {path.with_suffix('.png')}")
    for key, value in figures.items():
        print(f"  {key:>14}: {value}")
    ratio = figures["spike_p99_ms"] / figures["steady_p99_ms"] if figures["steady_p99_ms"] else float("inf")
    verdict = "met" if figures["errors_5xx"] == 0 and ratio <= 2 else "MISSED"
    print(f"targets (errors_5xx == 0, spike p99 <= 2x steady p99; ratio {ratio:.2f}): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
