"""Private servers start on free loopback ports, can be killed, and leave nothing behind."""

from __future__ import annotations

import psycopg
import pytest
import redis

from tests.support import servers

pytestmark = pytest.mark.integration


def test_a_private_redis_can_be_killed_and_is_removed_afterwards() -> None:
    with servers.private_redis() as server:
        assert server.port != 6379
        client = server.client()
        client.set("k", "v")
        server.kill()
        with pytest.raises(redis.ConnectionError):
            client.get("k")
        client.close()
        workdir, process = server.workdir, server.process
    assert not workdir.exists()
    assert process is not None
    assert process.poll() is not None


def test_a_private_postgres_answers_and_is_removed_afterwards() -> None:
    with servers.private_postgres({"wal_level": "replica"}) as server:
        assert server.port != 5432
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SHOW wal_level").fetchone() == ("replica",)
        workdir = server.workdir
    assert not workdir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=1)
