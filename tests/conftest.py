"""Fixtures every test may use: real services (found once per session), isolation, private servers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import discovery, isolation, servers

LAYER_MARKERS = {"unit", "integration", "load", "contract", "property", "fuzz"}
SERVICE_FIXTURES = {"services", "database_url", "redis_url", "pg_schema", "redis_prefix"}

_services: discovery.Services | None = None
_services_cm: object = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test declares its layer, so the pyramid (Q10) can be counted and run layer by layer."""
    unmarked = [item.nodeid for item in items if not LAYER_MARKERS & {m.name for m in item.iter_markers()}]
    if unmarked:
        raise pytest.UsageError(
            f"tests without a layer marker ({', '.join(sorted(LAYER_MARKERS))}): " + ", ".join(unmarked[:10])
        )


def pytest_collection_finish(session: pytest.Session) -> None:
    """Find PostgreSQL and Redis once, before any test runs, and stop at once with one message if we can't."""
    global _services, _services_cm  # noqa: PLW0603 - one discovery per session, shared by all fixtures
    needs_services = any(SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())) for item in session.items)
    if not needs_services or session.config.option.collectonly:
        return
    cm = discovery.discover_services()
    try:
        _services = cm.__enter__()
    except discovery.ServicesUnavailableError as exc:
        pytest.exit(str(exc), returncode=3)
    _services_cm = cm


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _services_cm is not None:
        _services_cm.__exit__(None, None, None)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _isolated_environment() -> Iterator[None]:
    """A test may set environment variables; the next test never sees them."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def services() -> discovery.Services:
    assert _services is not None, "services are discovered at collection time"
    return _services


@pytest.fixture(scope="session")
def database_url(services: discovery.Services) -> str:
    return services.database_url


@pytest.fixture(scope="session")
def redis_url(services: discovery.Services) -> str:
    return services.redis_url


@pytest.fixture
def pg_schema(database_url: str) -> Iterator[str]:
    """A PostgreSQL schema of this test's own, dropped afterwards."""
    with isolation.temporary_schema(database_url) as schema:
        yield schema


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    with isolation.temporary_key_prefix(redis_url) as prefix:
        yield prefix


@pytest.fixture
def private_redis() -> Iterator[servers.PrivateRedis]:
    """A redis-server on a free loopback port that the test may kill, pause or reconfigure."""
    with servers.private_redis() as server:
        yield server


@pytest.fixture
def private_postgres() -> Iterator[servers.PrivatePostgres]:
    """A PostgreSQL cluster on a free loopback port that the test may stop or reconfigure."""
    with servers.private_postgres() as server:
        yield server
