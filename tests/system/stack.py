"""How the system tests assemble the real services: which ones, with what environment, in which schemas.

One session-scoped ``Backing``: a PostgreSQL schema per package (migrated with its own Alembic
chain, the catalog seeded small), a Redis key prefix, and the signing key the gateway signs with and the
services verify with. Downstream services are listed in ``DOWNSTREAMS``; a service joins the system tests by
adding its ``Downstream`` there (the gateway learns its URL from ``url_setting``).
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from gateway.keys import SigningKey, private_pem
from tests.system.processes import ServiceProcess

PASSWORD = "correct horse battery staple"  # noqa: S105 - the tests' own throwaway password
SEED = {
    "tracks": 400,
    "playlists": 40,
    "users": 60,
}  # users >= the gateway users the session signs up (the ids must exist here)
# argon2id at its floor cost: these tests are about the hops, not the hash's strength
CHEAP_ARGON2 = {
    "GATEWAY_ARGON2_MEMORY_KIB": "7168",
    "GATEWAY_ARGON2_TIME_COST": "1",
    "GATEWAY_ARGON2_PARALLELISM": "1",
}


@dataclass(frozen=True)
class Backing:
    """What every process of the system tests shares."""

    database_url: str
    redis_url: str
    schemas: dict[str, str]  # package -> its schema
    redis_prefix: str
    key: SigningKey
    logdir: Path

    def shared_env(self) -> dict[str, str]:
        return {
            "BACKEND_ANSWERS_MODE": "services",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "LOG_LEVEL": "INFO",  # the access lines carry the trace ids the tracing test looks for
        }


@dataclass(frozen=True)
class Downstream:
    name: str
    factory: str
    url_setting: str  # the gateway's variable that points at it
    env: Callable[[Backing], dict[str, str]]

    @property
    def available(self) -> bool:
        return importlib.util.find_spec(self.factory.partition(":")[0]) is not None

    def process(self, backing: Backing) -> ServiceProcess:
        env = {**backing.shared_env(), **self.env(backing)}
        return ServiceProcess(self.name, env, backing.logdir, factory=self.factory)


def catalog_env(backing: Backing) -> dict[str, str]:
    return {
        "CATALOG_SCHEMA": backing.schemas["catalog"],
        "CATALOG_REDIS_PREFIX": f"{backing.redis_prefix}catalog:",
        "CATALOG_JWT_PUBLIC_KEY": backing.key.public_pem(),
        "CATALOG_CURSOR_SECRET": "system-test-cursor-secret",
    }


def recommender_env(backing: Backing) -> dict[str, str]:
    return {
        "RECOMMENDER_REDIS_PREFIX": f"{backing.redis_prefix}recommender:",
        "PLAYS_STREAM": f"{backing.redis_prefix}plays",
        # an empty models folder: it trains a tiny model at start-up, ids lined up with the catalog's
        "RECOMMENDER_MODELS_DIR": str(backing.logdir / "recommender-models"),
        "RECOMMENDER_BOOTSTRAP_USERS": "60",
        "RECOMMENDER_BOOTSTRAP_ITEMS": "400",
        "RECOMMENDER_BOOTSTRAP_ITERATIONS": "2",
    }


CATALOG = Downstream("catalog", "catalog.service:create_app", "GATEWAY_CATALOG_URL", catalog_env)
RECOMMENDER = Downstream(
    "recommender", "recommender.service:create_app", "GATEWAY_RECOMMENDER_URL", recommender_env
)
DOWNSTREAMS: tuple[Downstream, ...] = (CATALOG, RECOMMENDER)


def gateway_process(
    backing: Backing, downstream_urls: dict[str, str], overrides: dict[str, str] | None = None
) -> ServiceProcess:
    """A gateway of the test's own (its settings differ per test), with its own idempotency key space."""
    urls = {
        d.url_setting: downstream_urls[d.name] for d in (CATALOG, RECOMMENDER) if d.name in downstream_urls
    }
    env = {
        **backing.shared_env(),
        "GATEWAY_SCHEMA": backing.schemas["gateway"],
        "GATEWAY_REDIS_PREFIX": f"{backing.redis_prefix}gateway-{uuid.uuid4().hex[:8]}:",
        "GATEWAY_JWT_PRIVATE_KEY": private_pem(backing.key),
        # nothing listens there unless a recommender runs: its calls fail fast and stay out of the way
        "GATEWAY_RECOMMENDER_URL": "http://127.0.0.1:9",
        "GATEWAY_SIGNUP_PER_IP": "1000",  # every test signs up from 127.0.0.1
        **CHEAP_ARGON2,
        **urls,
        **(overrides or {}),
    }
    return ServiceProcess(
        f"gateway-{uuid.uuid4().hex[:6]}", env, backing.logdir, factory="gateway.service:create_app"
    )


def sign_up_and_log_in(gateway_url: str) -> tuple[int, dict[str, str]]:
    """A new account at the gateway, and the ``Authorization`` header of its access token."""
    username = f"u{uuid.uuid4().hex[:10]}"
    with httpx.Client(base_url=gateway_url, trust_env=False, timeout=10.0) as client:
        created = client.post("/users", json={"username": username, "password": PASSWORD})
        created.raise_for_status()
        form = {"grant_type": "password", "username": username, "password": PASSWORD}
        token = client.post("/auth/token", data=form)
        token.raise_for_status()
    return int(created.json()["id"]), {"Authorization": f"Bearer {token.json()['access_token']}"}
