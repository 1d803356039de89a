"""The service in services mode on real Redis: replicas agree through it; a dead Redis degrades, never errs.

Also the hot swap: a newer artifact replaces the model while requests keep succeeding.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from threadpoolctl import threadpool_limits

from recommender.settings import RecommenderSettings
from tests.recommender.serving_support import copy_models, item_ids, serving, settings, train_small
from tests.support.servers import PrivateRedis, free_port

pytestmark = pytest.mark.integration


def services_settings(models: Path, redis_url: str, prefix: str, **extra: object) -> RecommenderSettings:
    return settings(
        models,
        mode="services",
        redis_url=redis_url,
        redis_prefix=prefix,
        plays_stream=f"{prefix}plays",
        **extra,
    )


async def test_a_play_on_one_replica_changes_the_list_on_another(
    served_models: Path, redis_url: str, redis_prefix: str
) -> None:
    """Two app instances share history and cache through Redis: B stops recommending what A recorded."""
    config = services_settings(served_models, redis_url, redis_prefix)
    async with serving(config) as (_a, replica_a), serving(config) as (_b, replica_b):
        before = await replica_b.get("/users/5/recommendations?k=10")
        cached = await replica_a.get("/users/5/recommendations?k=10")
        top = item_ids(before.json())[0]
        await replica_a.post("/users/5/plays", json={"plays": [{"item_id": top}]})
        after = await replica_b.get("/users/5/recommendations?k=10")
        other_k = await replica_b.get("/users/5/recommendations?k=7")
    assert cached.headers["x-cache"] == "hit"  # B computed it, A read it from Redis
    assert (
        after.headers["x-cache"] == "hit"
    )  # A folded the user in and cached the list under the new generation
    assert other_k.headers["x-cache"] == "miss"
    assert top not in item_ids(other_k.json())
    assert top not in item_ids(after.json())


async def test_redis_down_means_uncached_answers_and_a_degraded_readiness(
    served_models: Path, private_redis: PrivateRedis
) -> None:
    """Killed Redis: lists still 200 (computed, not cached), /readyz 200 "degraded", plays a clear 503."""
    config = services_settings(served_models, private_redis.url, "rec:")
    async with serving(config) as (_app, client):
        assert (await client.get("/users/1/recommendations")).headers["x-cache"] == "miss"
        private_redis.kill()
        lists = [await client.get("/users/1/recommendations?k=5") for _ in range(3)]
        popular = await client.get("/popular")
        ready = await client.get("/readyz")
        play = await client.post("/users/1/plays", json={"plays": [{"item_id": "5"}]})
    assert [r.status_code for r in lists] == [200, 200, 200]
    assert all(r.headers["x-cache"] == "bypass" for r in lists)  # no generation known: never cached
    assert popular.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["checks"]["cache"]["status"] == "degraded"
    assert play.status_code == 503
    assert play.json()["error"]["code"] == "history_unavailable"


async def test_a_hot_swap_drops_no_request(served_models: Path, tmp_path: Path) -> None:
    """Requests run non-stop while a newer artifact is written and swapped in: all 200, both versions seen."""
    models = copy_models(served_models, tmp_path / "models")
    config = settings(models, admin_token="swap-secret", cache_enabled=False)  # noqa: S106 - a test token
    async with serving(config) as (app, client):
        old = app.state.recommender.holder.engine.version
        stop = asyncio.Event()
        statuses: list[int] = []
        versions: set[str] = set()

        async def hammer(user: int) -> None:
            while not stop.is_set():
                response = await client.get(f"/users/{user}/recommendations?k=5")
                statuses.append(response.status_code)
                versions.add(response.json().get("model_version", ""))
                await asyncio.sleep(0)

        workers = [asyncio.create_task(hammer(user)) for user in (1, 2, 3, 999)]
        with threadpool_limits(1):
            await asyncio.to_thread(train_small, models, 1)
        swap = await client.post("/admin/reload", headers={"X-Admin-Token": "swap-secret"})
        during = len(statuses)
        for _ in range(300):  # until the workers have been answered by the new model too
            if len(versions) > 1:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.gather(*workers)
        refused = await client.post("/admin/reload", headers={"X-Admin-Token": "wrong"})
    assert swap.status_code == 200
    assert swap.json()["swapped"] is True
    assert swap.json()["previous"] == old
    assert during > 4  # requests were running while the new artifact was trained and swapped in
    assert set(statuses) == {200}
    assert versions == {old, swap.json()["version"]}
    assert refused.status_code == 403


async def test_the_watcher_swaps_a_new_artifact_in_by_itself(served_models: Path, tmp_path: Path) -> None:
    models = copy_models(served_models, tmp_path / "models")
    async with serving(settings(models, watch_interval_s=0.1)) as (app, client):
        old = app.state.recommender.holder.engine.version
        with threadpool_limits(1):
            await asyncio.to_thread(train_small, models, 2)
        version = old
        for _ in range(100):
            version = (await client.get("/readyz")).json()["model"]["version"]
            if version != old:
                break
            await asyncio.sleep(0.05)
    assert version != old


async def test_the_process_honours_host_and_port(served_models: Path, tmp_path: Path) -> None:
    """``python -m recommender.service`` with HOST/PORT answers /healthz there."""
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "BACKEND_ANSWERS_MODE": "embedded",
        "RECOMMENDER_MODELS_DIR": str(served_models),
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - started once; the waiting below is async
        [sys.executable, "-m", "recommender.service"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        status = 0
        async with httpx.AsyncClient(trust_env=False) as client:
            for _ in range(150):
                try:
                    status = (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert status == 200
