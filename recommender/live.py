"""The model a service answers with, and its hot swap to a newer artifact without dropping a request.

At start the newest artifact under ``models_dir`` is loaded; with none, a small one is trained on the
synthetic log first (a fresh checkout or an empty volume still serves). The synthetic ids ``u<n>``/``i<n>``
are renamed to ``n + 1`` so they line up with the catalog's integer user and track ids (1, 2, ...): in the
demo
stack catalog track 7 *is* recommender item "7" (API.md, last line).

A swap builds the new :class:`Engine` in a worker thread (loading and indexing take seconds; the event loop
keeps serving), then replaces one reference. A request reads ``holder.engine`` once and keeps that object,
so it finishes on the model it started with while the next request gets the new one: nothing is dropped, no
lock sits on the request path. The online history lives outside the engine, so it survives the swap.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from prometheus_client import Counter, Gauge

from observability import get_logger
from recommender.artifact import ArtifactError, load, versions
from recommender.data import synthetic
from recommender.data.interactions import Interactions
from recommender.engine import Engine
from recommender.settings import RecommenderSettings
from recommender.train import DEFAULT_PARAMS, train

MODEL_INFO = Gauge("recommender_model_info", "The model being served (value 1), by version.", ["version"])
MODEL_ITEMS = Gauge("recommender_model_items", "Items the served model knows.")
MODEL_LOADED = Gauge("recommender_model_loaded_timestamp_seconds", "When the served model was loaded.")
LISTS = Counter("recommender_lists_total", "Lists served by kind and source.", ["kind", "source"])
RELOADS = Counter("recommender_model_reloads_total", "Reload attempts by outcome.", ["outcome"])


def catalog_aligned(interactions: Interactions) -> Interactions:
    """Synthetic ``u<n>``/``i<n>`` renamed to ``n + 1``: the catalog's integer ids, 1-based."""
    return Interactions(
        matrix=interactions.matrix,
        user_ids=np.array([str(int(u[1:]) + 1) for u in interactions.user_ids.tolist()]),
        item_ids=np.array([str(int(i[1:]) + 1) for i in interactions.item_ids.tolist()]),
        name=interactions.name + "-catalog-ids",
    )


def bootstrap(settings: RecommenderSettings) -> Path:
    """Train the small synthetic artifact the service falls back on when ``models_dir`` has none.

    Services mode writes it to ``models_dir`` (the next start and replicas on a shared volume reuse
    it); embedded mode (``make demo``) to a temporary folder, leaving nothing behind in the checkout.
    """
    root = Path(tempfile.mkdtemp(prefix="recommender-models-")) if settings.embedded else settings.models_dir
    data = catalog_aligned(synthetic(n_users=settings.bootstrap_users, n_items=settings.bootstrap_items))
    params = {**DEFAULT_PARAMS, "iterations": settings.bootstrap_iterations}
    get_logger("recommender").warning(
        "bootstrap_artifact",
        detail=f"no artifact under {settings.models_dir}: training one on synthetic data into {root}",
        users=data.n_users,
        items=data.n_items,
    )
    return train(data, root, params=params)


def _build(path: Path, ann_threshold: int) -> Engine:
    return Engine(load(path), ann_threshold=ann_threshold)


class ModelHolder:
    """The current engine; ``reload()`` swaps in the newest artifact if it is newer."""

    def __init__(self, settings: RecommenderSettings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self._lock = asyncio.Lock()  # one reload at a time; requests never take it

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the model is not loaded yet (the lifespan loads it)")
        return self._engine

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def _newest(self) -> Path | None:
        found = versions(self.settings.models_dir)
        return found[-1] if found else None

    def _start_engine(self) -> Engine:
        newest = self._newest()
        if newest is not None:
            return _build(newest, self.settings.ann_threshold)
        path = bootstrap(self.settings)
        engine = _build(path, self.settings.ann_threshold)  # everything is in memory once built
        if self.settings.embedded:  # a temporary folder (see bootstrap): nothing left behind
            shutil.rmtree(path.parent, ignore_errors=True)
        return engine

    async def start(self) -> None:
        engine = await asyncio.to_thread(self._start_engine)
        self._install(engine)

    async def reload(self) -> tuple[str, str]:
        """(previous version, served version); they are equal when nothing newer exists."""
        async with self._lock:
            previous = self.engine.version
            path = self._newest()
            if path is None or path.name <= previous:
                RELOADS.labels("unchanged").inc()
                return previous, previous
            try:
                engine = await asyncio.to_thread(_build, path, self.settings.ann_threshold)
            except (ArtifactError, OSError, ValueError, KeyError) as exc:
                RELOADS.labels("failed").inc()
                get_logger("recommender").error("reload_failed", artifact=str(path), error=str(exc))
                raise
            self._install(engine)
            RELOADS.labels("swapped").inc()
            get_logger("recommender").info("model_swapped", previous=previous, version=engine.version)
            return previous, engine.version

    def _install(self, engine: Engine) -> None:
        self._engine = engine  # one reference assignment: atomic for every reader
        MODEL_INFO.clear()
        MODEL_INFO.labels(engine.version).set(1)
        MODEL_ITEMS.set(len(engine.item_ids))
        MODEL_LOADED.set(time.time())

    async def watch(self, interval_s: float) -> None:
        """Poll ``models_dir`` and swap when a newer artifact appears (a trainer writes it atomically)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.reload()
            except Exception as exc:  # keep serving the current model; the next poll tries again
                get_logger("recommender").warning("watch_reload_failed", error=str(exc))
