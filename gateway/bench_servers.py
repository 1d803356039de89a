"""The benchmark's set-up: fresh schemas, migrations and seed rows, and the services as pinned processes.

Everything about the catalog goes through names (its Alembic chain ``catalog:migrations``, ``python -m
catalog.seed``, ``catalog.service:create_app`` for uvicorn): the gateway's code never imports the catalog's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import redis
from psycopg import sql

from gateway.bench_wrk import pinned
from observability.pg import driver_url

START_TIMEOUT_S = 60.0
SERVER_CPU = 0


@dataclass(frozen=True)
class Seed:
    tracks: int
    playlists: int
    users: int


def migrate(database_url: str, package: str, schema: str) -> None:
    """``alembic upgrade head`` of one package's chain into ``schema`` (the chain is named, not imported)."""
    from alembic import command  # noqa: PLC0415 - slow import, needed only here
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    config.set_main_option("sqlalchemy.url", driver_url(database_url, "psycopg"))
    config.set_main_option("schema", schema)
    command.upgrade(config, "head")


def seed_catalog(seed: Seed, database_url: str, schema: str, log: Path) -> None:
    sizes = {
        "tracks": seed.tracks,
        "playlists": seed.playlists,
        "users": seed.users,
        "hero-every": 50,
        "hero-size": 100,
        "max-playlist": 200,
    }
    args = [sys.executable, "-m", "catalog.seed", "--schema", schema]
    for name, value in sizes.items():
        args += [f"--{name}", str(value)]
    with log.open("wb") as out:
        subprocess.run(
            args,
            env={**os.environ, "DATABASE_URL": database_url},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=1800,
        )


def prepare(seed: Seed, database_url: str, schemas: Mapping[str, str], workdir: Path) -> None:
    """Fresh schemas, each package's migrations, the catalog's rows."""
    for package, schema in schemas.items():
        drop_schema(database_url, schema)
        migrate(database_url, package, schema)
    seed_catalog(seed, database_url, schemas["catalog"], workdir / "seed.log")


def drop_schema(database_url: str, schema: str) -> None:
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def libpq(database_url: str) -> str:
    return "postgresql://" + database_url.partition("://")[2]


@contextlib.contextmanager
def servers(*started: Server) -> Iterator[tuple[Server, ...]]:
    """Start them all at once (start-up is mostly imports), wait until each is ready; always stop them."""
    try:
        for server in started:
            server.start()
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in reversed(started):
            server.stop()


@dataclass
class Server:
    """A uvicorn process pinned to the servers' core; restartable only by a new ``Server``."""

    name: str
    factory: str
    env: dict[str, str]
    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [
            *pinned(SERVER_CPU),
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            self.factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                args, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/readyz", timeout=1, trust_env=False).status_code == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} was not ready within {START_TIMEOUT_S:.0f}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def delete_prefix(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
