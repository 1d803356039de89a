"""``make demo``: start every registered app on loopback, say which mode they run in, print their URLs.

The answer book (``answers.docs_app``) is started once ``site/`` is built; ``make demo`` runs
``python -m answers.docs --if-stale --best-effort`` first, so it is rebuilt when an answer changed.

Mode: **services** when PostgreSQL (``DATABASE_URL``, default the local test database) and Redis
(``REDIS_URL``, default local) both answer within about a second; otherwise **embedded**: SQLite in a temp
folder (one file per app, so their tables never collide) and in-memory limiter and cache (DESIGN.md,
"The two commands"). Children learn the mode from ``BACKEND_ANSWERS_MODE`` and get ``DATABASE_URL`` (and
``REDIS_URL`` in services mode). In services mode every package's Alembic chain is applied first (``answers
migrate``). The gateway signs tokens with a demo key generated here unless ``GATEWAY_JWT_PRIVATE_KEY`` is set,
and the catalog verifies them through the gateway's JWKS. Each app is a
``uvicorn --factory`` subprocess; a port can be overridden with ``<NAME>_PORT`` (e.g. ``ANSWERS_PORT=9000``)
and a busy port is swapped for a free one. The gateway is pointed at this run's catalog and recommender.
``--check`` starts everything, verifies health, prints the table and stops (used by a test).

Services mode also starts the WORKERS, processes that are not HTTP APIs (``python -m <module> --port N``,
``/healthz`` on that port): the catalog's outbox relay and the recommender's play-stream consumer, as compose
does. They need Redis Streams (and the relay ``FOR UPDATE SKIP LOCKED``), so embedded mode starts neither: a
play posted there is recorded with its outbox row, and nothing publishes or consumes it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import httpx
import psycopg
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.table import Table

from answers import docs_app
from answers.migrate import migrate_all

API_LINKS = (("home", "/"), ("API docs", "/docs"), ("metrics", "/metrics"))


@dataclass(frozen=True)
class App:
    name: str
    factory: str  # "module:create_app", called by uvicorn --factory with no arguments
    port: int
    links: tuple[tuple[str, str], ...] = API_LINKS  # (what, path) rows printed in the URL table


@dataclass(frozen=True)
class Worker:
    """Not a uvicorn app: ``python -m <module> --port <port>``, healthy once ``/healthz`` answers 200."""

    name: str
    module: str
    port: int
    links: tuple[tuple[str, str], ...] = (("health", "/healthz"), ("metrics", "/metrics"))


BOOK = App("book", "answers.docs_app:create_app", 8001, (("answer book", "/"), ("metrics", "/metrics")))
APPS: tuple[App, ...] = (
    App("answers", "answers.site:create_app", 8000),
    BOOK,
    App("catalog", "catalog.service:create_app", 8002),
    App("gateway", "gateway.service:create_app", 8003),
    App("recommender", "recommender.service:create_app", 8004),
)

# Started in services mode only (module docstring); compose runs the same modules as `relay` and
# `recommender-consumer`.
WORKERS: tuple[Worker, ...] = (
    Worker("relay", "catalog.relay", 8005),
    Worker("recommender-consumer", "recommender.consumer", 9104),
)
EMBEDDED_WITHOUT_WORKERS = (
    "workers: none in embedded mode (the relay and the play consumer need Redis Streams): "
    "POST /v2/me/plays records the play and its outbox event, which nothing publishes or applies"
)

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PROBE_TIMEOUT_S = 1.0
HEALTH_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Mode:
    name: str  # "services" or "embedded"
    reason: str
    env: dict[str, str]  # set (or, with value "", removed) in the children's environment


class _StopRequestedError(Exception):
    """SIGTERM arrived: shut the children down as for Ctrl-C."""


def redact(url: str) -> str:
    """The URL without its password, fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:120]


def postgres_error(url: str) -> str | None:
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        return "DATABASE_URL is not a postgresql:// URL"
    try:
        with psycopg.connect(f"postgresql://{rest}", connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        # libpq says "connection to server at ..., port N failed: <why>"; the URL is printed already
        return _first_line(exc).rsplit("failed: ", 1)[-1]
    return None


def redis_error(url: str) -> str | None:
    client = redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT_S, socket_connect_timeout=PROBE_TIMEOUT_S)
    try:
        client.ping()
    except Exception as exc:
        return _first_line(exc)
    finally:
        client.close()
    return None


def decide_mode(environ: Mapping[str, str], embedded_dir: Callable[[], Path]) -> Mode:
    """Probe both servers at once; services mode only when both answer within the timeout."""
    db_url = environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {
        "PostgreSQL": pool.submit(postgres_error, db_url),
        "Redis": pool.submit(redis_error, redis_url),
    }
    wait(futures.values(), timeout=PROBE_TIMEOUT_S + 0.5)
    pool.shutdown(wait=False, cancel_futures=True)
    errors = {
        name: (future.result() if future.done() else f"no answer within {PROBE_TIMEOUT_S:.0f} s")
        for name, future in futures.items()
    }
    where = {"PostgreSQL": redact(db_url), "Redis": redact(redis_url)}
    if not any(errors.values()):
        env = {"BACKEND_ANSWERS_MODE": "services", "DATABASE_URL": db_url, "REDIS_URL": redis_url}
        reason = f"PostgreSQL at {where['PostgreSQL']} and Redis at {where['Redis']} both answered"
        return Mode("services", reason, env)
    database = embedded_dir() / "{app}.sqlite3"  # one file per app: see app_env()
    why = "; ".join(
        f"{name} at {where[name]} {'did not answer (' + error + ')' if error else 'answered'}"
        for name, error in errors.items()
    )
    reason = f"{why}; using SQLite at {database} and in-memory limiter and cache"
    env = {
        "BACKEND_ANSWERS_MODE": "embedded",
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "REDIS_URL": "",
    }
    return Mode("embedded", reason, env)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def choose_port(app: App | Worker, environ: Mapping[str, str], say: Callable[[str], None]) -> int:
    """The app's port (``<NAME>_PORT`` wins over the default), or a free one if that is taken."""
    variable = f"{app.name.upper().replace('-', '_')}_PORT"
    raw = environ.get(variable, str(app.port))
    if not raw.isdigit():
        raise SystemExit(f"{variable}={raw!r} is not a port number")
    wanted = int(raw)
    if port_is_free(wanted):
        return wanted
    chosen = free_port()
    say(f"port {wanted} is busy; {app.name} uses {chosen} instead")
    return chosen


@dataclass
class Child:
    app: App | Worker
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def command(app: App | Worker, port: int) -> list[str]:
    if isinstance(app, Worker):
        return [sys.executable, "-m", app.module, "--port", str(port)]
    return [sys.executable, "-m", "uvicorn", "--factory", app.factory, "--host", HOST, "--port", str(port)]


def start(app: App | Worker, port: int, env: Mapping[str, str]) -> Child:
    args = command(app, port)
    # own session: Ctrl-C reaches only us, and we stop the children in order
    return Child(app, port, subprocess.Popen(args, env=dict(env), start_new_session=True))


def wait_healthy(child: Child, deadline: float) -> str | None:
    """None once ``/healthz`` answers 200, else why it never did."""
    with httpx.Client(trust_env=False, timeout=1.0) as client:  # never via a proxy: this is loopback
        while time.monotonic() < deadline:
            code = child.process.poll()
            if code is not None:
                return f"{child.app.name} exited with code {code} before answering /healthz"
            try:
                if client.get(f"{child.url}/healthz").status_code == 200:
                    return None
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    return f"{child.app.name} did not answer {child.url}/healthz within {HEALTH_TIMEOUT_S:.0f} s"


def stop_all(children: list[Child]) -> None:
    for child in children:
        if child.process.poll() is None:
            child.process.terminate()
    for child in children:
        try:
            child.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait(timeout=STOP_TIMEOUT_S)


def url_table(children: list[Child], mode: Mode) -> Table:
    # one URL per row, never truncated, so each stays copyable in an 80-column terminal
    table = Table(title=f"backend-answers ({mode.name} mode)", title_justify="left")
    table.add_column("app")
    table.add_column("what")
    table.add_column("url", no_wrap=True, overflow="ignore")
    for child in children:
        for i, (what, path) in enumerate(child.app.links):
            last = i == len(child.app.links) - 1
            table.add_row(child.app.name if i == 0 else "", what, f"{child.url}{path}", end_section=last)
    return table


def runnable(apps: tuple[App, ...], say: Callable[[str], None]) -> list[App]:
    """The apps to start: the book only once ``make docs`` has built it (``make demo`` builds it first)."""
    if BOOK not in apps or docs_app.is_built(docs_app.BookSettings().site_dir):
        return list(apps)
    say(f"book: not built yet ({docs_app.BookSettings().site_dir}); `make docs` builds it, `make demo` too")
    return [app for app in apps if app != BOOK]


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise _StopRequestedError


@contextmanager
def _temp_dir() -> Iterator[Callable[[], Path]]:
    """A temp folder made on first use (embedded mode only) and removed at the end."""
    made: list[Path] = []

    def get() -> Path:
        if not made:
            made.append(Path(tempfile.mkdtemp(prefix="backend-answers-")))
        return made[0]

    try:
        yield get
    finally:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)


def demo_signing_key() -> str:
    """A throwaway Ed25519 key (PEM) for the gateway, so the demo needs no secret of the reader's."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode()


def shared_env(mode: Mode, ports: Mapping[str, int], say: Callable[[str], None]) -> dict[str, str]:
    """What every child gets: the mode, and the wiring between the gateway and the services behind it."""
    env = {k: v for k, v in {**os.environ, **mode.env}.items() if v}
    if "gateway" in ports:
        if not env.get("GATEWAY_JWT_PRIVATE_KEY"):
            say("gateway: signs tokens with a demo key made now (set GATEWAY_JWT_PRIVATE_KEY to use yours)")
            env["GATEWAY_JWT_PRIVATE_KEY"] = demo_signing_key()
        env.setdefault("CATALOG_JWKS_URL", f"http://{HOST}:{ports['gateway']}/.well-known/jwks.json")
        # the gateway's defaults are other ports (gateway/settings.py): point it at this run's services
        if "catalog" in ports:
            env.setdefault("GATEWAY_CATALOG_URL", f"http://{HOST}:{ports['catalog']}")
        if "recommender" in ports:
            env.setdefault("GATEWAY_RECOMMENDER_URL", f"http://{HOST}:{ports['recommender']}")
    return env


def app_env(app: App | Worker, env: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: in embedded mode its own SQLite file."""
    return {**env, "DATABASE_URL": env.get("DATABASE_URL", "").replace("{app}", app.name)}


def run(check: bool, console: Console) -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    children: list[Child] = []
    with _temp_dir() as embedded_dir:
        mode = decide_mode(os.environ, embedded_dir)
        console.print(f"mode: {mode.name}: {mode.reason}", markup=False, highlight=False, soft_wrap=True)
        try:
            apps: list[App | Worker] = [*runnable(APPS, console.print)]
            if mode.name == "services":
                apps.extend(WORKERS)
            else:
                console.print(EMBEDDED_WITHOUT_WORKERS, markup=False, highlight=False, soft_wrap=True)
            ports = {app.name: choose_port(app, os.environ, console.print) for app in apps}
            env = shared_env(mode, ports, console.print)
            if mode.name == "services":
                migrated = migrate_all(env["DATABASE_URL"])
                console.print(f"migrated: {', '.join(migrated) or 'nothing to migrate'}", markup=False)
            children.extend(start(app, ports[app.name], app_env(app, env)) for app in apps)
            deadline = time.monotonic() + HEALTH_TIMEOUT_S
            problems = [p for p in (wait_healthy(child, deadline) for child in children) if p]
            if problems:
                for problem in problems:
                    console.print(f"error: {problem}", style="bold red", markup=False)
                return 1
            console.print(url_table(children, mode))
            if check:
                return 0
            console.print("Ctrl-C stops everything.")
            return _watch(children, console)
        except (KeyboardInterrupt, _StopRequestedError):
            console.print("stopping...")
            return 0
        finally:
            stop_all(children)


def _watch(children: list[Child], console: Console) -> int:
    while True:
        for child in children:
            code = child.process.poll()
            if code is not None:
                console.print(
                    f"error: {child.app.name} (pid {child.process.pid}) exited with code {code}",
                    style="bold red",
                )
                return 1
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m answers.stack", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="start, verify health, print the URLs, stop")
    return run(parser.parse_args(argv).check, Console())


if __name__ == "__main__":
    sys.exit(main())
