"""Shared pieces of the service and consumer tests: a small catalogue-aligned artifact, an app, a client."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from recommender.data import synthetic
from recommender.live import catalog_aligned
from recommender.service import create_app
from recommender.settings import RecommenderSettings
from recommender.train import DEFAULT_PARAMS, train

SMALL = {"n_users": 200, "n_items": 300}


def train_small(root: Path, seed: int = 0) -> Path:
    """A few-second artifact with catalog-style ids "1".."300" (users "1".."200")."""
    data = catalog_aligned(synthetic(**SMALL, seed=seed))
    return train(data, root, params={**DEFAULT_PARAMS, "factors": 16, "iterations": 5}, seed=seed)


def copy_models(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def settings(models_dir: Path, **overrides: Any) -> RecommenderSettings:
    values: dict[str, Any] = {"mode": "embedded", "models_dir": models_dir, "redis_url": None}
    values.update(overrides)
    return RecommenderSettings(**values)


@asynccontextmanager
async def serving(app_settings: RecommenderSettings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(app_settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://recommender") as client,
    ):
        yield app, client


def item_ids(body: dict[str, Any]) -> list[str]:
    return [entry["item_id"] for entry in body["items"]]
