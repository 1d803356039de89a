"""``answers demo 11`` runs end to end on its own redis-server and shows the key that never expires."""

from __future__ import annotations

import asyncio

import pytest

from ratelimit import race_demo
from ratelimit.benchkit import private_redis


@pytest.mark.integration
def test_the_q11_demo_shows_the_key_that_never_expires_and_the_exact_lua_count() -> None:
    with private_redis(None) as port:
        live, ttls = asyncio.run(race_demo.run(port))
    assert ttls["naive"] == -1  # the decision died between INCRBY and EXPIRE
    assert 0 < ttls["lua"] <= 60_000
    assert live["lua_admitted_min"] == live["lua_admitted_max"] == live["limit"]


@pytest.mark.integration
def test_the_q11_demo_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    race_demo.main()
    out = capsys.readouterr().out
    assert "naive: admitted, mean" in out
    assert "PTTL = -1" in out
