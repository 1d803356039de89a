"""``python -m ratelimit.bench``: what a decision costs, ours against ``limits`` and against the ceiling.

On a private ``redis-server`` pinned to one core with ``taskset`` (this process, the load generator, pins
itself to another with ``sched_setaffinity``, the call ``taskset`` makes), for each algorithm: decisions per
second and the latency a decision adds (p50/p99) at a fixed client concurrency, and the Redis round trips and
commands per decision, counted on the wire (``ratelimit.wirecount``) and cross-checked against the server's
``INFO commandstats``. The anchor is the ``limits`` library (``limits.aio.strategies`` on its async Redis
storage) on the same server in the same run; the ceiling is ``redis-benchmark`` calling a trivial ``EVALSHA``
at the same concurrency, pinned like the generator. The naive limiter of Q11 and its race are measured
alongside. Writes ``results/ratelimit.json`` (``--quick``: a small run, into a temp dir).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import redis
from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from observability.results import write_results
from ratelimit.bench_race import naive_opener, race
from ratelimit.benchkit import (
    Load,
    Opened,
    Opener,
    ServerCounters,
    cores,
    drive,
    evalsha_ceiling,
    percentile_us,
    private_redis,
)
from ratelimit.decision import ALGORITHMS, Algorithm, Limit
from ratelimit.factory import create_limiter, redis_client
from ratelimit.wirecount import WireCounts, counting_connection

LIMIT = Limit(1000, 60)  # per key; with fresh keys every round, nearly every decision is an admission
ANCHORS: dict[Algorithm, type[RateLimiter]] = {
    "fixed_window": FixedWindowRateLimiter,
    "sliding_window_log": MovingWindowRateLimiter,
    "sliding_window_counter": SlidingWindowCounterRateLimiter,
}
AnchorClient = Literal["coredis", "redispy"]
# limits runs on either client (coredis is its default); we measure both and hold ourselves to the faster one
ANCHOR_CLIENTS: tuple[AnchorClient, ...] = ("coredis", "redispy")


@dataclass(frozen=True)
class Settings:
    concurrency: int = 50
    seconds: float = 10.0  # per measured run
    warmup_s: float = 1.0
    rounds: int = 3  # runs per subject, ours and the anchor interleaved; throughput is their median
    count_s: float = 2.0  # the separate run whose round trips and commands are counted
    count_warmup_s: float = 0.5  # before it: open every connection, load the scripts (not part of a decision)
    keys: int = 1000
    ceiling_requests: int = 500_000
    race_trials: int = 100  # fresh keys hit by `concurrency` simultaneous first requests, naive and Lua

    @classmethod
    def quick(cls) -> Settings:
        return cls(
            seconds=0.3,
            warmup_s=0.1,
            rounds=1,
            count_s=0.2,
            count_warmup_s=0.15,
            keys=200,
            ceiling_requests=5000,
            race_trials=5,
        )


async def open_ours(port: int, algorithm: Algorithm, counts: WireCounts | None) -> Opened:
    options: dict[str, Any] = {"connection_class": counting_connection(counts)} if counts else {}
    client = redis_client(f"redis://127.0.0.1:{port}/0", timeout_s=5, **options)
    limiter = create_limiter(algorithm, LIMIT, redis=client, prefix=f"ours:{algorithm}:")
    return limiter.hit, client.aclose


def anchor_opener(client: AnchorClient) -> Opener:
    async def open_anchor(port: int, algorithm: Algorithm, counts: WireCounts | None) -> Opened:
        options: dict[str, Any] = {"connection_class": counting_connection(counts)} if counts else {}
        implementation = "redispy" if counts else client  # only redis-py's connections can be counted
        storage = RedisStorage(f"async+redis://127.0.0.1:{port}/0", implementation=implementation, **options)
        strategy, item = ANCHORS[algorithm](storage), RateLimitItemPerMinute(LIMIT.limit)

        async def hit(key: str) -> bool:
            return await strategy.hit(item, "limits", algorithm, key)

        async def close() -> None:
            connection = storage.bridge.storage  # type: ignore[attr-defined]
            await (connection.aclose() if hasattr(connection, "aclose") else asyncio.sleep(0))

        return hit, close

    return open_anchor


async def timed(opener: Opener, port: int, algorithm: Algorithm, settings: Settings, tag: str) -> Load:
    hit, close = await opener(port, algorithm, None)
    try:
        warm_keys = [f"{tag}:warm:{n}" for n in range(settings.keys)]
        await drive(hit, warm_keys, settings.concurrency, settings.warmup_s)
        keys = [f"{tag}:{n}" for n in range(settings.keys)]  # fresh keys: every round starts from empty state
        return await drive(hit, keys, settings.concurrency, settings.seconds)
    finally:
        await close()


async def counted(
    opener: Opener, port: int, algorithm: Algorithm, settings: Settings, tag: str
) -> dict[str, float]:
    counts = WireCounts()
    hit, close = await opener(port, algorithm, counts)
    server = redis.Redis(port=port)
    try:
        # first open every connection the client will use and load the scripts: a connection's handshake and a
        # first NOSCRIPT happen once per connection, not once per decision
        warm_keys = [f"{tag}:warm:{n}" for n in range(settings.keys)]
        for wave in range(3):
            await asyncio.gather(*(hit(f"{tag}:wave{wave}:{n}") for n in range(settings.concurrency)))
        await drive(hit, warm_keys, settings.concurrency, settings.count_warmup_s)
        counts.reset()
        before = ServerCounters.read(server)
        load = await drive(
            hit, [f"{tag}:{n}" for n in range(settings.keys)], settings.concurrency, settings.count_s
        )
        after = ServerCounters.read(server)
    finally:
        await close()
        server.close()
    return {
        "redis_roundtrips_per_decision": counts.round_trips / load.decisions,
        "redis_commands_per_decision": counts.total_commands / load.decisions,
        **after.since(before, load.decisions),
    }


def figures(loads: list[Load], counts: dict[str, float]) -> dict[str, float]:
    latencies = [latency for load in loads for latency in load.latencies_ns]
    return {
        "decisions_per_s": round(statistics.median(load.per_second for load in loads), 1),
        "p50_us": round(percentile_us(latencies, 0.50), 1),
        "p99_us": round(percentile_us(latencies, 0.99), 1),
        "redis_roundtrips_per_decision": round(counts["redis_roundtrips_per_decision"], 4),
        "redis_commands_per_decision": round(counts["redis_commands_per_decision"], 4),
    }


def subjects_for(algorithm: Algorithm) -> list[tuple[str, Opener]]:
    """What runs for ``algorithm``: ours, ``limits`` on either client, and (fixed window) the naive one."""
    subjects: list[tuple[str, Opener]] = [("ours", open_ours)]
    if algorithm in ANCHORS:
        subjects += [(f"limits/{client}", anchor_opener(client)) for client in ANCHOR_CLIENTS]
    if algorithm == "fixed_window":  # Q11: what the version with the race costs, for comparison
        subjects.append(("naive", naive_opener(LIMIT)))
    return subjects


async def measure(port: int, settings: Settings) -> dict[str, Any]:
    table: dict[str, dict[str, dict[str, float]]] = {}  # subject -> algorithm -> figures
    server_counts: dict[str, dict[str, dict[str, float]]] = {}
    for algorithm in ALGORITHMS:
        subjects = subjects_for(algorithm)
        loads: dict[str, list[Load]] = {name: [] for name, _ in subjects}
        for round_ in range(settings.rounds):  # interleaved, so all see the same machine
            for name, opener in subjects:
                tag = f"{name}:{algorithm}:r{round_}"
                loads[name].append(await timed(opener, port, algorithm, settings, tag))
        for name, opener in subjects:
            counted_as = (
                "limits" if name.startswith("limits/") else name
            )  # the same commands on either client
            if algorithm not in server_counts.get(counted_as, {}):
                counts = await counted(opener, port, algorithm, settings, f"{name}:{algorithm}:counted")
                server_counts.setdefault(counted_as, {})[algorithm] = {
                    k: round(v, 4) for k, v in counts.items()
                }
            counts = server_counts[counted_as][algorithm]
            table.setdefault(name, {})[algorithm] = figures(loads[name], counts)
            print(f"{algorithm:24} {name:16} {table[name][algorithm]}")
    by_client = {client: table[f"limits/{client}"] for client in ANCHOR_CLIENTS}
    anchor, anchor_client = {}, {}
    for algorithm in ANCHORS:
        anchor_client[algorithm] = max(
            ANCHOR_CLIENTS, key=lambda c: by_client[c][algorithm]["decisions_per_s"]
        )
        anchor[algorithm] = by_client[anchor_client[algorithm]][algorithm]
    return {
        "algorithms": table["ours"],
        "anchor_limits": anchor,
        "anchor_limits_by_client": by_client,
        "anchor_client": anchor_client,
        "naive_fixed_window": table["naive"]["fixed_window"],
        "race": await race(port, settings.concurrency, settings.race_trials),
        "server_counts": server_counts,
    }


def summarise(measured: dict[str, Any], ceiling: float, settings: Settings) -> dict[str, Any]:
    ours, anchor = measured["algorithms"], measured["anchor_limits"]
    ratios = {
        "vs_anchor": {a: round(ours[a]["decisions_per_s"] / anchor[a]["decisions_per_s"], 2) for a in anchor},
        "vs_ceiling": {a: round(ours[a]["decisions_per_s"] / ceiling, 3) for a in ours},
    }
    targets = {
        "at_least_anchor_throughput": all(r >= 1 for r in ratios["vs_anchor"].values()),
        "one_script_call_per_decision": all(
            measured["server_counts"]["ours"][a]["script_calls_per_decision"] == 1
            and ours[a]["redis_commands_per_decision"] == 1
            for a in ours
        ),
        "at_most_one_roundtrip_per_decision": all(
            ours[a]["redis_roundtrips_per_decision"] <= 1 for a in ours
        ),
        "at_least_quarter_of_ceiling": all(r >= 0.25 for r in ratios["vs_ceiling"].values()),
    }
    return {
        "concurrency": settings.concurrency,
        **measured,
        "ceiling_evalsha_per_s": round(ceiling, 1),
        "ratios": ratios,
        "targets": targets,
        "setup": {**asdict(settings), "limit_per_key": asdict(LIMIT)},
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a small smoke run into a temp dir")
    parser.add_argument("--results-dir", type=Path, default=None, help="where to write ratelimit.json")
    args = parser.parse_args(argv)
    settings = Settings.quick() if args.quick else Settings()
    results_dir = args.results_dir or (
        Path(tempfile.mkdtemp(prefix="bench-ratelimit-")) if args.quick else None
    )

    redis_core, generator_core = cores()
    if generator_core is not None:
        os.sched_setaffinity(0, {generator_core})  # this process is the load generator
    with private_redis(redis_core) as port:
        measured = asyncio.run(measure(port, settings))
        ceiling = evalsha_ceiling(port, settings.concurrency, settings.ceiling_requests, generator_core)
        data = summarise(measured, ceiling, settings)
        data["setup"].update(redis_core=redis_core, generator_core=generator_core)
        path = write_results(
            "ratelimit",
            data,
            command="make bench-ratelimit",
            redis_url=f"redis://127.0.0.1:{port}/0",
            results_dir=results_dir,
        )
    print(f"ceiling {ceiling:.0f} EVALSHA/s; ratios {data['ratios']}; targets {data['targets']}")
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
