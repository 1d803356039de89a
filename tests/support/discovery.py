"""Find the PostgreSQL and Redis that integration tests run against (DESIGN.md, "Services in tests and CI").

Order: ``DATABASE_URL`` / ``REDIS_URL`` (or the local defaults) when they answer; else testcontainers when
a Docker engine answers; else fail the whole session at once with one message naming both ways. Never a mock.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import redis

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PROBE_TIMEOUT_S = 2

UNAVAILABLE_MESSAGE = (
    "Integration tests need PostgreSQL and Redis, and neither way to get them worked:\n"
    "  1. point DATABASE_URL / REDIS_URL at running servers (defaults: {db} and {redis}), or\n"
    "  2. start a Docker engine so testcontainers can run postgres:15 and redis:7.\n"
    "Tried: {tried}"
)


class ServicesUnavailableError(RuntimeError):
    """Neither configured servers nor a Docker engine are available."""


@dataclass(frozen=True)
class Services:
    database_url: str  # plain libpq form: postgresql://user@host:port/db
    redis_url: str
    source: str  # "environment", "defaults" or "testcontainers"


def postgres_error(url: str) -> str | None:
    """None when PostgreSQL at ``url`` answers a query, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=PROBE_TIMEOUT_S) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL at {url}: {exc}".strip()
    return None


def redis_error(url: str) -> str | None:
    """None when Redis at ``url`` answers PING, else why not."""
    client = redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT_S, socket_connect_timeout=PROBE_TIMEOUT_S)
    try:
        client.ping()
    except Exception as exc:
        return f"Redis at {url}: {exc}"
    finally:
        client.close()
    return None


def docker_answers() -> bool:
    try:
        import docker  # noqa: PLC0415 - only needed on the fallback path

        docker.from_env(timeout=PROBE_TIMEOUT_S).ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def discover_services() -> Iterator[Services]:
    """Yield reachable services; containers started here are stopped on exit."""
    db_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    configured = "DATABASE_URL" in os.environ or "REDIS_URL" in os.environ
    problems = [p for p in (postgres_error(db_url), redis_error(redis_url)) if p]
    if not problems:
        yield Services(db_url, redis_url, "environment" if configured else "defaults")
        return
    if not docker_answers():
        problems.append("Docker: no engine answered")
        raise ServicesUnavailableError(
            UNAVAILABLE_MESSAGE.format(
                db=DEFAULT_DATABASE_URL, redis=DEFAULT_REDIS_URL, tried="; ".join(problems)
            )
        )
    yield from _containers()


def _containers() -> Iterator[Services]:
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415
    from testcontainers.redis import RedisContainer  # noqa: PLC0415

    with PostgresContainer("postgres:15", driver=None) as pg, RedisContainer("redis:7") as rd:
        redis_url = f"redis://{rd.get_container_host_ip()}:{rd.get_exposed_port(6379)}/0"
        yield Services(pg.get_connection_url(), redis_url, "testcontainers")
