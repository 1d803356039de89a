"""``make bench-gateway``: what the hop through the gateway costs, and how fast an open breaker says no.

1. Two schemas on the shared PostgreSQL (one per package, each migrated by its own Alembic chain), the
   catalog seeded by ``python -m catalog.seed``; the catalog and the gateway as uvicorn processes, both on
   CPU 0 (the servers' one core), ``wrk`` on CPU 1.
2. The same authenticated read, ``GET /v2/tracks?limit=20`` with one access token, straight to the catalog
   and through the gateway (``/catalog/v2/tracks?limit=20``), in alternating rounds of the same run: the
   difference is the hop (token check, routing, a pooled HTTP call, headers in and out) and nothing else.
   Each round measures twice: throughput with ``connections`` busy connections (saturated), latency with
   one connection. A saturated closed loop's p99 is mostly the queue (connections / throughput), so it
   would say how many connections wrk had, not what a request costs.
3. The catalog is stopped, a few requests open the gateway's breaker (its cool-down outlasts the run, so
   every measured request is a breaker rejection, which the gateway's own metrics confirm), and ``wrk``
   measures the fail-fast answers the same two ways.

Writes ``results/gateway.json``: ``direct_rps``, ``direct_p99_ms``, ``gateway_rps``, ``gateway_p99_ms``
(medians of the rounds), ``breaker_open_p99_ms``, plus the rounds and the load. ``--quick`` runs the same
steps on small data for about a second each, into a temp folder. The services talk to each other only over
HTTP here too: this harness starts them by module name and never imports the catalog.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway import bench_wrk
from gateway.bench_servers import (
    SERVER_CPU,
    Seed,
    Server,
    delete_prefix,
    drop_schema,
    free_port,
    prepare,
    servers,
)
from gateway.keys import SigningKey, generate_key, private_pem
from gateway.settings import DEFAULT_DATABASE_URL
from observability.results import write_results

TOPIC = "gateway"
COMMAND = "make bench-gateway"
READ = "/v2/tracks?limit=20"
CLIENT_CPU = 1  # the servers run on bench_servers.SERVER_CPU
LATENCY_CONNECTIONS = 1  # one request at a time: its latency, not the closed loop's queue


@dataclass(frozen=True)
class Round:
    """One variant in one round: throughput from the saturated run, latency from the one-connection run."""

    rps: float
    p99_ms: float
    saturated_p99_ms: float

    @classmethod
    def of(cls, saturated: bench_wrk.WrkRun, single: bench_wrk.WrkRun) -> Round:
        return cls(rps=saturated.rps, p99_ms=single.p99_ms, saturated_p99_ms=saturated.p99_ms)


@dataclass(frozen=True)
class BenchConfig:
    seed: Seed
    duration_s: float  # per wrk run
    warmup_s: float
    rounds: int
    connections: int  # saturated runs (throughput); latency runs use LATENCY_CONNECTIONS
    breaker_s: float
    schema: str  # base name: <schema>_catalog and <schema>_gateway


FULL = BenchConfig(Seed(100_000, 5_000, 2_000), 10, 3, 3, 8, 10, "gateway_bench")
QUICK = BenchConfig(Seed(2_000, 100, 100), 1, 0, 1, 4, 1, f"gateway_quick_{uuid.uuid4().hex[:8]}")


def access_token(gateway_url: str) -> str:
    """An account at the gateway, logged in: the token both runs send."""
    username, password = f"bench{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)  # a throwaway account
    with httpx.Client(base_url=gateway_url, trust_env=False, timeout=30) as client:
        client.post("/users", json={"username": username, "password": password}).raise_for_status()
        form = {"grant_type": "password", "username": username, "password": password}
        response = client.post("/auth/token", data=form)
        response.raise_for_status()
    return str(response.json()["access_token"])


def sample(metrics_url: str, name: str, labels: Mapping[str, str]) -> float:
    text = httpx.get(metrics_url, timeout=10, trust_env=False).text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def measure_round(url: str, config: BenchConfig, auth: str) -> Round:
    """A saturated run for throughput, then a one-connection run for latency, against ``url``."""
    saturated, single = (
        bench_wrk.run(
            url, duration_s=config.duration_s, connections=connections, headers=[auth], cpu=CLIENT_CPU
        )
        for connections in (config.connections, LATENCY_CONNECTIONS)
    )
    return Round.of(saturated, single)


def measure_hop(config: BenchConfig, urls: dict[str, str], auth: str) -> dict[str, list[Round]]:
    """Alternating rounds (who goes first rotates), so drift in the machine's load hits both alike."""
    order = ("direct", "gateway")
    if config.warmup_s:
        for variant in order:
            bench_wrk.run(
                urls[variant],
                duration_s=config.warmup_s,
                connections=config.connections,
                headers=[auth],
                cpu=CLIENT_CPU,
            )
    runs: dict[str, list[Round]] = {variant: [] for variant in order}
    for round_ in range(config.rounds):
        for variant in order[round_ % 2 :] + order[: round_ % 2]:
            runs[variant].append(measure_round(urls[variant], config, auth))
        print(
            f"round {round_ + 1}/{config.rounds}: "
            + ", ".join(f"{v} {runs[v][-1].rps:,.0f} rps p99 {runs[v][-1].p99_ms:.2f} ms" for v in order)
        )
    return runs


def open_breaker(gateway_url: str, auth_header: dict[str, str]) -> None:
    """Call until the gateway answers ``downstream_unavailable`` (the breaker is open)."""
    with httpx.Client(base_url=gateway_url, trust_env=False, timeout=30) as client:
        for _ in range(100):
            response = client.get(f"/catalog{READ}", headers=auth_header)
            if response.status_code == 503 and response.json()["error"]["code"] == "downstream_unavailable":
                return
    raise RuntimeError("the gateway's breaker did not open after 100 failed calls")


def measure_breaker(config: BenchConfig, gateway_url: str, auth: str) -> Round:
    metrics = f"{gateway_url}/metrics"
    labels = {"downstream": "catalog", "outcome": "breaker_open"}
    runs = []
    for connections in (config.connections, LATENCY_CONNECTIONS):  # as measure_round, each run checked
        before = sample(metrics, "gateway_downstream_calls_total", labels)
        run = bench_wrk.run(
            f"{gateway_url}/catalog{READ}",
            duration_s=config.breaker_s,
            connections=connections,
            headers=[auth],
            cpu=CLIENT_CPU,
            expect_success=False,
        )
        rejected = sample(metrics, "gateway_downstream_calls_total", labels) - before
        # wrk counts completed requests; a few more may be in flight when it stops
        if run.non_2xx != run.requests or rejected < run.requests:
            raise RuntimeError(f"not every request was a breaker rejection: {run}, {rejected:.0f} rejected")
        runs.append(run)
    return Round.of(*runs)


def catalog_env(shared: Mapping[str, str], schema: str, prefix: str, key: SigningKey) -> dict[str, str]:
    return {
        **shared,
        "CATALOG_SCHEMA": schema,
        "CATALOG_REDIS_PREFIX": f"{prefix}catalog:",
        "CATALOG_JWT_PUBLIC_KEY": key.public_pem(),
        "CATALOG_CURSOR_SECRET": uuid.uuid4().hex,
    }


def gateway_env(
    shared: Mapping[str, str], schema: str, prefix: str, key: SigningKey, catalog_url: str
) -> dict[str, str]:
    return {
        **shared,
        "GATEWAY_SCHEMA": schema,
        "GATEWAY_REDIS_PREFIX": f"{prefix}gateway:",
        "GATEWAY_JWT_PRIVATE_KEY": private_pem(key),
        "GATEWAY_CATALOG_URL": catalog_url,
        "GATEWAY_RECOMMENDER_URL": "http://127.0.0.1:9",  # not part of this benchmark
        "GATEWAY_ACCESS_TTL_S": "3600",  # outlives the run
        "GATEWAY_BREAKER_RESET_S": "3600",  # once open, open for the whole breaker phase
    }


def measure(
    config: BenchConfig, shared: Mapping[str, str], schemas: Mapping[str, str], prefix: str, workdir: Path
) -> dict[str, Any]:
    """Both servers up, the hop measured, the catalog stopped, the breaker opened and measured."""
    key = generate_key("EdDSA")
    catalog = Server(
        "catalog",
        "catalog.service:create_app",
        catalog_env(shared, schemas["catalog"], prefix, key),
        workdir,
        free_port(),
    )
    gateway = Server(
        "gateway",
        "gateway.service:create_app",
        gateway_env(shared, schemas["gateway"], prefix, key, catalog.url),
        workdir,
        free_port(),
    )
    with servers(catalog, gateway):
        token = access_token(gateway.url)
        auth = f"Authorization: Bearer {token}"
        urls = {"direct": f"{catalog.url}{READ}", "gateway": f"{gateway.url}/catalog{READ}"}
        runs = measure_hop(config, urls, auth)
        catalog.stop()
        open_breaker(gateway.url, {"Authorization": f"Bearer {token}"})
        breaker = measure_breaker(config, gateway.url, auth)
    return summarise(config, runs, breaker)


def run_bench(config: BenchConfig, database_url: str, redis_url: str, results_dir: Path | None) -> Path:
    schemas = {package: f"{config.schema}_{package}" for package in ("catalog", "gateway")}
    prefix = f"gateway-bench-{uuid.uuid4().hex[:8]}:"
    shared = {
        "BACKEND_ANSWERS_MODE": "services",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",  # no access line per request: the same for both paths, as in bench-catalog
    }
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        try:
            prepare(config.seed, database_url, schemas, Path(tmp))
            data = measure(config, shared, schemas, prefix, Path(tmp))
        finally:
            for schema in schemas.values():
                drop_schema(database_url, schema)
            delete_prefix(redis_url, prefix)
    path = write_results(
        TOPIC, data, command=COMMAND, database_url=database_url, redis_url=redis_url, results_dir=results_dir
    )
    print(
        f"direct {data['direct_rps']:,} rps, p99 {data['direct_p99_ms']} ms | "
        f"gateway {data['gateway_rps']:,} rps, p99 {data['gateway_p99_ms']} ms | "
        f"breaker open: p99 {data['breaker_open_p99_ms']} ms"
    )
    print(f"wrote {path}")
    return path


def summarise(config: BenchConfig, runs: dict[str, list[Round]], breaker: Round) -> dict[str, Any]:
    median = {
        v: (statistics.median(r.rps for r in rs), statistics.median(r.p99_ms for r in rs))
        for v, rs in runs.items()
    }
    direct_rps, direct_p99 = median["direct"]
    gateway_rps, gateway_p99 = median["gateway"]
    return {
        "direct_rps": round(direct_rps, 1),
        "direct_p99_ms": round(direct_p99, 2),
        "gateway_rps": round(gateway_rps, 1),
        "gateway_p99_ms": round(gateway_p99, 2),
        "breaker_open_p99_ms": round(breaker.p99_ms, 2),
        "breaker_open_rps": round(breaker.rps, 1),
        "breaker_open_saturated_p99_ms": round(breaker.saturated_p99_ms, 2),
        "hop_p99_ms": round(gateway_p99 - direct_p99, 2),
        "gateway_vs_direct_rps": round(gateway_rps / direct_rps, 3),
        "rounds": {variant: [asdict(r) for r in rs] for variant, rs in runs.items()},
        "load": {
            "request": f"GET {READ} (authenticated), direct vs GET /catalog{READ} via the gateway",
            "dataset": asdict(config.seed),
            "duration_s": config.duration_s,
            "warmup_s": config.warmup_s,
            "rounds": config.rounds,
            "connections": config.connections,
            "latency_connections": LATENCY_CONNECTIONS,
            "breaker_s": config.breaker_s,
            "statistic": "median of rounds; rps from the saturated runs, p99 from the one-connection runs",
            "servers": f"catalog and gateway, uvicorn 1 worker each, taskset -c {SERVER_CPU}",
            "client": f"wrk -t1, taskset -c {CLIENT_CPU}",
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--quick", action="store_true", help="small data, ~1 s per run, into a temp folder")
    parser.add_argument("--results-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    bench_wrk.check_installed()
    config = QUICK if args.quick else FULL
    results_dir = args.results_dir or (
        Path(tempfile.mkdtemp(prefix="gateway-results-")) if args.quick else None
    )
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    run_bench(config, database_url, redis_url, results_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
