"""Fixtures for process-level system tests: real catalog (and later recommender) and gateway processes.

Per session: schemas migrated and seeded once, and the downstream services started once (a test that stops
one gets it started again by the fixture). Per test: a gateway process with its own resilience settings,
and a fault-injecting proxy between it and the catalog. Every process's JSON log is kept in the session's
temp folder, so a failing test can be read from the logs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from catalog.rows import SeedSpec
from catalog.seed import seed_postgres
from gateway.keys import generate_key
from tests.support import isolation
from tests.support.faulty_proxy import FaultyProxy
from tests.support.migrations import upgrade
from tests.system.processes import ServiceProcess, running
from tests.system.stack import DOWNSTREAMS, SEED, Backing, gateway_process

GatewayFactory = Callable[..., ServiceProcess]


def _seed_catalog(database_url: str, schema: str) -> None:
    """A small catalog, by the benchmark's generator (COPY, and identity sequences moved past the ids)."""
    seed_postgres(database_url, schema, SeedSpec(**SEED, hero_every=10, hero_size=20, max_playlist=30))


@pytest.fixture(scope="session")
def backing(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backing]:
    with contextlib.ExitStack() as stack:
        schemas = {
            package: stack.enter_context(isolation.temporary_schema(database_url))
            for package in ("catalog", "gateway")
        }
        for package, schema in schemas.items():
            upgrade(package, database_url, schema)
        _seed_catalog(database_url, schemas["catalog"])
        prefix = stack.enter_context(isolation.temporary_key_prefix(redis_url))
        yield Backing(
            database_url, redis_url, schemas, prefix, generate_key("EdDSA"), tmp_path_factory.mktemp("logs")
        )


@pytest.fixture(scope="session")
def downstreams(backing: Backing) -> Iterator[dict[str, ServiceProcess]]:
    """Every downstream in ``stack.DOWNSTREAMS`` whose module exists, running for the whole session."""
    processes = [d.process(backing) for d in DOWNSTREAMS if d.available]
    with running(*processes):
        yield {process.name: process for process in processes}


@pytest.fixture
def catalog(downstreams: dict[str, ServiceProcess]) -> Iterator[ServiceProcess]:
    process = downstreams["catalog"]
    yield process
    if not process.running:  # a test stopped it: the next test gets it back
        process.start()


@contextlib.contextmanager
def faulty_proxy(upstream: ServiceProcess) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(upstream.url)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def faulty_catalog(catalog: ServiceProcess) -> Iterator[FaultyProxy]:
    """A proxy in front of the catalog; the test turns its delay and failure knobs."""
    with faulty_proxy(catalog) as proxy:
        yield proxy


@pytest.fixture
def faulty_recommender(downstreams: dict[str, ServiceProcess]) -> Iterator[FaultyProxy]:
    with faulty_proxy(downstreams["recommender"]) as proxy:
        yield proxy


@pytest.fixture
def start_gateway(backing: Backing, downstreams: dict[str, ServiceProcess]) -> Iterator[GatewayFactory]:
    """``start_gateway(catalog_url=, recommender_url=, **settings)``: a gateway, stopped after the test."""
    started: list[ServiceProcess] = []

    def start(
        catalog_url: str | None = None, recommender_url: str | None = None, **overrides: str
    ) -> ServiceProcess:
        chosen = {"catalog": catalog_url, "recommender": recommender_url}
        urls = {name: chosen.get(name) or process.url for name, process in downstreams.items()}
        env = {f"GATEWAY_{name.upper()}": value for name, value in overrides.items()}
        process = gateway_process(backing, urls, env)
        started.append(process)
        return process.start()

    try:
        yield start
    finally:
        for process in reversed(started):
            process.stop()


@pytest.fixture(scope="module")
def gateway(backing: Backing, downstreams: dict[str, ServiceProcess]) -> Iterator[ServiceProcess]:
    """A gateway with the default settings, shared by the module's tests that change none."""
    process = gateway_process(backing, {name: p.url for name, p in downstreams.items()})
    with running(process):
        yield process
