"""Acknowledged writes lost to ``kill -9`` of a private redis-server, measured: stock snapshots lose all of
them before the first snapshot; AOF ``everysec`` keeps them (the kernel still has what Redis wrote)."""

from __future__ import annotations

import random

import pytest
import redis

from datastores.durability import measure_loss
from datastores.redisserver import STOCK_SAVE, private_redis

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("nothing_left_behind")]

WINDOW_S = (0.5, 1.0)  # far below the 60 s of the first stock snapshot rule


async def test_stock_snapshots_lose_every_acknowledged_write_made_before_the_first_snapshot() -> None:
    report = await measure_loss("default", WINDOW_S, rng=random.Random(1))
    assert report.acknowledged > 100
    assert report.lost == report.acknowledged


async def test_aof_everysec_keeps_most_acknowledged_writes_across_kill_9() -> None:
    """Usually every one; a write postponed behind a slow background fsync may be lost, never most of them."""
    report = await measure_loss("aof_everysec", WINDOW_S, rng=random.Random(1))
    assert report.acknowledged > 100
    assert report.lost < report.acknowledged // 2


def test_the_private_server_runs_with_the_stock_snapshot_rules() -> None:
    with private_redis("--save", STOCK_SAVE) as server:
        client = redis.Redis(port=server.port, decode_responses=True)
        try:
            assert client.config_get("save") == {"save": STOCK_SAVE}
            assert server.port != 6379
        finally:
            client.close()
