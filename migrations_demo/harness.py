"""One live run: seed, load at a fixed rate, baseline, migrate (safe or naive), audit.

Each run gets data no other run touched: a schema of its own seeded for it, or (``templates``, what the
bench and the live command use) a fresh clone of a database seeded once per revision
(:mod:`migrations_demo.template`).

The order matters: the load starts first and runs throughout; the baseline is measured on the same load just
before the migration; the migration window runs from its first step to its last (backfills and rolling
deploys included); a short tail follows so requests stuck behind the migration finish and are counted.
Everything below the harness (Alembic, the backfill, the naive SQL) is the same code a deploy would run.
"""

from __future__ import annotations

import asyncio
import atexit
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
import psycopg
from psycopg import sql

from migrations_demo import worker
from migrations_demo.adversary import hold_lock
from migrations_demo.audit import Audit, audit
from migrations_demo.backfill import Pacing
from migrations_demo.catalog import MIGRATIONS, Backfill, Deploy, Sql, Step, Upgrade, step_name
from migrations_demo.load import LoadGenerator, Record, create_pool
from migrations_demo.locks import LockEvent, LockPolicy
from migrations_demo.sampler import LockSample, LockSampler
from migrations_demo.seed import Seeded
from migrations_demo.settings import DEFAULT_DATABASE_URL
from migrations_demo.stats import WindowStats, window_stats
from migrations_demo.template import Templates
from migrations_demo.workload import RequestMix, Sizes
from observability.pg import libpq_url


@dataclass(frozen=True)
class RunConfig:
    migration: str
    mode: str
    rows: int
    rate: float
    baseline_s: float = 30.0
    tail_s: float = 2.0
    deploy_lag_s: float = 2.0  # how long one rolling deploy keeps two app versions side by side
    adversary_s: float = 0.0  # hold a conflicting lock this long as the migration starts (0: no adversary)
    timeout_s: float = 5.0
    pool_size: int = 20
    seed: int = 0
    database_url: str = DEFAULT_DATABASE_URL
    policy: LockPolicy = field(default_factory=LockPolicy)
    pacing: Pacing = field(default_factory=Pacing)

    def __post_init__(self) -> None:
        if self.migration not in MIGRATIONS:
            raise ValueError(f"unknown migration {self.migration!r}; choose from {', '.join(MIGRATIONS)}")
        MIGRATIONS[self.migration].steps(self.mode)  # validates the mode
        if self.rows < 1 or self.rate <= 0 or self.baseline_s <= 0 or self.timeout_s <= 0:
            raise ValueError("rows, rate, baseline and timeout must be positive")

    @property
    def warmup_s(self) -> float:
        # the first requests open connections and prepare statements: not the steady state we compare against
        return min(2.0, self.baseline_s * 0.1)


@dataclass
class RunResult:
    config: RunConfig
    records: list[Record]
    window: tuple[float, float]
    baseline: WindowStats
    during: WindowStats
    longest_wait: LockSample | None
    audit: Audit
    lock_events: list[LockEvent]
    migration_error: str | None
    steps: list[tuple[str, float, float]] = field(default_factory=list)  # (step, start_s, end_s)
    # wall-clock seconds of each phase (prepare, baseline, migration, tail, audit, cleanup): where a bench's
    # time goes
    phases: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """This run as one ``runs`` entry of results/migrations.json (before the median over repeats)."""
        c, d = self.config, self.during
        return {
            "migration": c.migration,
            "mode": c.mode,
            "requests": d.requests,
            "errors": d.errors,
            "p50_ms": d.p50_ms,
            "p99_ms": d.p99_ms,
            "max_ms": d.max_ms,
            "slow_share": d.slow_share,
            "baseline_p99_ms": self.baseline.p99_ms,
            "longest_lock_wait_ms": round(self.longest_wait.wait_ms, 1) if self.longest_wait else 0.0,
            "duration_ms": round((self.window[1] - self.window[0]) * 1000, 1),
            "lost_writes": self.audit.lost_writes,
            "checksum_ok": self.audit.checksum_ok,
            "rows": c.rows,
            "rate": c.rate,
            "repeats": 1,
        }


async def run_once(config: RunConfig, templates: Templates | None = None) -> RunResult:
    """One run in a fresh schema seeded for it, or (``templates``) in a fresh clone of a seeded template."""
    if templates is not None:
        return await _run_in_clone(config, templates)
    schema = f"mig_{uuid.uuid4().hex[:10]}"
    dsn = libpq_url(config.database_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        result = await _Run(config, schema, config.database_url, _worker()).execute()
    finally:
        started = time.monotonic()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    result.phases["cleanup"] = round(time.monotonic() - started, 2)
    return result


def templates_for(config: RunConfig) -> Templates:
    """Seeded templates on ``config``'s server, seeded by the deploy worker; close() them when done."""
    deployer, policy = _worker(), asdict(config.policy)

    def prepare(database_url: str, schema: str, revision: str, rows: int) -> dict[str, Any]:
        done: dict[str, Any] = deployer.call(
            "prepare", database_url=database_url, schema=schema, revision=revision, rows=rows, policy=policy
        )
        return done

    return Templates(config.database_url, prepare)


async def _run_in_clone(config: RunConfig, templates: Templates) -> RunResult:
    started = time.monotonic()
    clone = await asyncio.to_thread(templates.clone, MIGRATIONS[config.migration].before, config.rows)
    prepare_s = time.monotonic() - started
    try:
        seeded = Seeded(Sizes(clone.rows), clone.checksum)
        result = await _Run(config, clone.schema, clone.database_url, _worker(), seeded).execute()
    finally:
        started = time.monotonic()
        await asyncio.to_thread(templates.drop, clone)
    result.phases["prepare"] = round(result.phases.get("prepare", 0.0) + prepare_s, 2)
    result.phases["cleanup"] = round(time.monotonic() - started, 2)
    return result


_WORKERS: list[worker.Worker] = []


def _worker() -> worker.Worker:
    """One worker process, started on first use and kept for later runs (it imports Alembic once)."""
    if not _WORKERS:
        _WORKERS.append(worker.Worker())
        atexit.register(_WORKERS[0].close)
    return _WORKERS[0]


class _Run:
    def __init__(
        self,
        config: RunConfig,
        schema: str,
        database_url: str,
        deployer: worker.Worker,
        seeded: Seeded | None = None,
    ) -> None:
        self.config, self.schema, self.deployer, self.seeded = config, schema, deployer, seeded
        self.database_url, self.dsn = database_url, libpq_url(database_url)
        self.migration = MIGRATIONS[config.migration]
        self.events: list[LockEvent] = []
        self.step_times: list[tuple[str, float, float]] = []
        self.load: LoadGenerator | None = None
        self.origin = 0.0

    async def execute(self) -> RunResult:
        cfg = self.config
        loop = asyncio.get_running_loop()
        phases: dict[str, float] = {}
        clock = loop.time()
        await self._call("warm_up")
        seeded = self.seeded or await self._seed()
        phases["prepare"] = loop.time() - clock
        pool = await create_pool(
            self.dsn, self.schema, f"{self.schema}:load", size=cfg.pool_size, timeout_s=cfg.timeout_s
        )
        watcher = await asyncpg.connect(
            self.dsn, server_settings={"application_name": f"{self.schema}-sampler"}
        )
        origin = self.origin = loop.time()
        self.load = LoadGenerator(
            pool,
            RequestMix(seeded.sizes, cfg.seed),
            rate=cfg.rate,
            origin=origin,
            versions=(self.migration.app,),
            timeout_s=cfg.timeout_s,
        )
        sampler = LockSampler(watcher, self.schema, origin=origin)
        try:
            tasks = [asyncio.create_task(self.load.run()), asyncio.create_task(sampler.run())]
            # the warm-up comes on top: the baseline the migration is compared with lasts baseline_s in full
            await asyncio.sleep(cfg.warmup_s + cfg.baseline_s)
            adversary = await self._start_adversary() if cfg.adversary_s > 0 else None
            start = loop.time() - origin
            error = await self._migrate()
            end = loop.time() - origin
            await asyncio.sleep(cfg.tail_s)
            self.load.stop()
            sampler.stop()
            await asyncio.gather(*tasks)
            if adversary is not None:
                await adversary
            phases["baseline"], phases["migration"] = start, end - start
            phases["tail"] = loop.time() - origin - end
        finally:
            self.load.stop()  # already stopped unless something above failed
            sampler.stop()
            await watcher.close()
            await pool.close()
        records = self.load.records
        clock = loop.time()
        result_audit = await asyncio.to_thread(self._audit, seeded, records)
        phases["audit"] = loop.time() - clock
        return RunResult(
            config=cfg,
            records=records,
            window=(start, end),
            baseline=window_stats(records, cfg.warmup_s, start),
            during=window_stats(records, start, end),
            longest_wait=sampler.longest(start, end),
            audit=result_audit,
            lock_events=self.events,
            migration_error=error,
            steps=self.step_times,
            phases={name: round(seconds, 2) for name, seconds in phases.items()},
        )

    async def _seed(self) -> Seeded:
        prepared = await self._call(
            "prepare",
            database_url=self.database_url,
            schema=self.schema,
            revision=self.migration.before,
            rows=self.config.rows,
            policy=asdict(self.config.policy),
        )
        return Seeded(Sizes(prepared["rows"]), prepared["checksum"])

    async def _start_adversary(self) -> asyncio.Task[None]:
        conn = await asyncpg.connect(
            self.dsn,
            server_settings={"search_path": self.schema, "application_name": f"{self.schema}:adversary"},
        )
        holding = asyncio.Event()

        async def hold() -> None:
            try:
                await hold_lock(conn, self.config.adversary_s, holding)
            finally:
                await conn.close()

        task = asyncio.create_task(hold())
        await holding.wait()
        return task

    async def _migrate(self) -> str | None:
        """Run the steps in order; a failure (lock retries exhausted, say) is the outcome, not a crash."""
        loop = asyncio.get_running_loop()
        for step in self.migration.steps(self.config.mode):
            started = loop.time() - self.origin
            try:
                error = await self._step(step)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            self.step_times.append((step_name(step), started, loop.time() - self.origin))
            if error is not None:
                return error
        return None

    async def _step(self, step: Step) -> str | None:
        cfg = self.config
        match step:
            case Upgrade(revision):
                done = await self._call(
                    "upgrade",
                    database_url=self.database_url,
                    schema=self.schema,
                    revision=revision,
                    policy=asdict(cfg.policy),
                )
                self.events.extend(LockEvent(**e) for e in done["events"])
                return str(done["error"]) if done["error"] else None
            case Backfill(job):
                await self._call(
                    "backfill",
                    dsn=self.dsn,
                    schema=self.schema,
                    job=job,
                    pacing=asdict(cfg.pacing),
                )
            case Deploy(versions):
                assert self.load is not None
                self.load.versions = versions
                await asyncio.sleep(cfg.deploy_lag_s)
            case Sql(statements):
                await self._call("naive", dsn=self.dsn, schema=self.schema, statements=list(statements))
        return None

    async def _call(self, op: str, **arguments: Any) -> Any:
        return await asyncio.to_thread(self.deployer.call, op, **arguments)

    def _audit(self, seeded: Seeded, records: list[Record]) -> Audit:
        with worker.connect(self.dsn, self.schema, "audit") as conn:
            return audit(conn, seeded, records)
