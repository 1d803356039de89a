"""A PostgreSQL primary with one streaming standby, made with ``pg_basebackup -R``, on free loopback ports.

With ``synchronous=True`` the primary names the standby in ``synchronous_standby_names`` (``'*'``: any
standby) and keeps ``synchronous_commit = on``, so a COMMIT returns only once the standby has flushed its WAL
(https://www.postgresql.org/docs/15/warm-standby.html#SYNCHRONOUS-REPLICATION). Otherwise replication is
asynchronous: COMMIT returns after the local flush and the WAL follows. The standby streams through a link
proxy, so ``partition()`` stops the WAL while both servers stay up. ``fsync`` is off on both sides so that the
latency difference measured is the replication round trip alone, not this machine's disk.

"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

from replication.processes import (
    Harness,
    free_port,
    kill_group,
    kill_processes_under,
    pause,
    resume,
    wait_until,
)

BINDIR_GLOB = "/usr/lib/postgresql/*/bin"
START_ATTEMPTS = 3


def postgres_bindir() -> Path:
    """The newest Debian-layout PostgreSQL server binaries, or the directory of ``initdb`` on PATH."""
    candidates = sorted(Path("/").glob(BINDIR_GLOB.lstrip("/")), key=lambda p: int(p.parent.name))
    if candidates:
        return candidates[-1]
    import shutil  # noqa: PLC0415 - only needed off Debian

    initdb = shutil.which("initdb")
    if initdb is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb) found: apt-get install postgresql")
    return Path(initdb).parent


@dataclass
class PgNode:
    name: str
    port: int
    workdir: Path
    datadir: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def connect(self, timeout: int = 5) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=timeout)

    def scalar(self, query: str) -> object:
        with self.connect() as conn:
            row = conn.execute(query).fetchone()
        return None if row is None else row[0]


def _accepting(node_proc: subprocess.Popen[bytes], url: str) -> bool:
    if node_proc.poll() is not None:
        return True
    with psycopg.connect(url, connect_timeout=1) as conn:
        conn.execute("SELECT 1")
    return True


def start_postgres(harness: Harness, name: str, datadir: Path, settings: dict[str, str]) -> PgNode:
    """Run ``postgres`` as our own child (not daemonised by pg_ctl), so a crash is one ``kill -9`` away."""
    workdir = datadir.parent
    for _ in range(START_ATTEMPTS):
        port = free_port()
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(workdir),
            "fsync": "off",
            **settings,
        }
        args = [str(postgres_bindir() / "postgres"), "-D", str(datadir)]
        for key, value in options.items():
            args += ["-c", f"{key}={value}"]
        proc = harness.spawn(args, cwd=workdir, log=workdir / "postgres.log", postgres=True)
        node = PgNode(name, port, workdir, datadir, proc)
        wait_until(lambda: _accepting(proc, node.url), f"{name} accepting connections", timeout=30)  # noqa: B023 - called at once
        if proc.poll() is None:
            return node
    raise RuntimeError(f"could not start {name}: see {workdir / 'postgres.log'}")


class PgCluster:
    """Primary + one streaming standby behind a link proxy; the table ``writes`` exists on both."""

    def __init__(self, harness: Harness, *, synchronous: bool) -> None:
        self.harness = harness
        bindir = postgres_bindir()
        primary_dir = harness.directory("pg-primary", for_postgres=True) / "data"
        harness.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(primary_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            postgres=True,
        )
        self.primary = start_postgres(harness, "primary", primary_dir, {})
        with self.primary.connect() as conn:
            conn.execute("CREATE TABLE writes (id text PRIMARY KEY, payload text NOT NULL)")
        self.proxy, link_port = harness.start_proxy(self.primary.port)
        standby_dir = harness.directory("pg-standby", for_postgres=True) / "data"
        harness.run(
            [
                str(bindir / "pg_basebackup"),
                "-D",
                str(standby_dir),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
                "-d",
                f"host=127.0.0.1 port={link_port} user=postgres application_name=standby1",
            ],
            postgres=True,
        )
        self.standby = start_postgres(harness, "standby", standby_dir, {})
        wait_until(lambda: self._replication_state() in {"async", "potential", "sync"}, "standby streaming")
        if synchronous:
            with self.primary.connect() as conn:
                conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
                conn.execute("SELECT pg_reload_conf()")
            wait_until(lambda: self._replication_state() == "sync", "standby synchronous")

    def _replication_state(self) -> str | None:
        state = self.primary.scalar("SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'")
        return None if state is None else str(state)

    def wait_caught_up(self, timeout: float = 20.0) -> None:
        """The standby has replayed everything the primary has written so far."""
        target = str(self.primary.scalar("SELECT pg_current_wal_lsn()"))
        wait_until(
            lambda: bool(self.standby.scalar(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")),
            "standby caught up",
            timeout=timeout,
        )

    def partition(self) -> None:
        """Stop the WAL stream (the standby is unreachable from the primary)."""
        pause(self.proxy)

    def heal(self) -> None:
        resume(self.proxy)

    def crash_primary(self) -> None:
        """``kill -9`` the postmaster and every backend: a machine that died mid-flight."""
        kill_group(self.primary.process)
        kill_processes_under(self.primary.workdir)

    def promote_standby(self) -> PgNode:
        self.harness.run(
            [str(postgres_bindir() / "pg_ctl"), "promote", "-D", str(self.standby.datadir), "-w", "-t", "30"],
            postgres=True,
        )
        wait_until(lambda: self.standby.scalar("SELECT pg_is_in_recovery()") is False, "standby promoted")
        return self.standby
