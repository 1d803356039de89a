"""The online half's model API: everything by external id, each call cheap enough for a request.

Built from a loaded :class:`~recommender.artifact.Artifact`. A user's list comes from their factor (trained,
or folded in from their current history after new plays) scored against every item -- or, above
``ann_threshold`` items, from the Voyager index asked for extra neighbours so that filtering out played items
still leaves k. Users with no plays get the popularity list (cold start); a user who names a few items gets a
fold-in from them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from recommender.artifact import Artifact
from recommender.models.base import top_k
from recommender.models.diversity import cap_per_cluster, item_clusters

ANN_THRESHOLD = 50_000  # below this many items a matrix-vector product is already sub-millisecond


def _top_k(scores: NDArray[np.float32], k: int) -> NDArray[np.intp]:
    """:func:`~recommender.models.base.top_k` for one row, the same order, without its 2-D gathers."""
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


@dataclass(frozen=True)
class Scored:
    item: str
    score: float


class Engine:
    def __init__(self, artifact: Artifact, ann_threshold: int = ANN_THRESHOLD) -> None:
        self.artifact = artifact
        self.model = artifact.model
        data = artifact.interactions
        self.user_ids, self.item_ids = data.user_ids, data.item_ids
        self.user_row = {u: i for i, u in enumerate(data.user_ids.tolist())}
        self.item_row = {it: i for i, it in enumerate(data.item_ids.tolist())}
        self._matrix = data.matrix.tocsr()
        listeners = np.bincount(self._matrix.indices, minlength=data.n_items).astype(np.float32)
        self._popular = np.argsort(-listeners, kind="stable")
        self._listeners = listeners
        norms = np.linalg.norm(self.model.item_factors, axis=1, keepdims=True)
        self._unit_items = (self.model.item_factors / np.maximum(norms, 1e-12)).astype(np.float32)
        # histories changed online (new plays, new users): user id -> {item row: count}
        self._live: dict[str, dict[int, float]] = {}
        self._live_factor: dict[str, NDArray[np.float32]] = {}
        self.use_ann = artifact.index is not None and data.n_items >= ann_threshold
        self.clusters = item_clusters(self.model.item_factors, n_clusters=min(20, max(1, data.n_items // 10)))

    @property
    def version(self) -> str:
        return self.artifact.version

    def knows_user(self, user: str) -> bool:
        return user in self.user_row or user in self._live

    def knows_item(self, item: str) -> bool:
        return item in self.item_row

    def history(self, user: str) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Item rows and play counts of ``user`` (empty for an unknown user)."""
        if user in self._live:
            plays = self._live[user]
            return np.fromiter(plays, np.int64, len(plays)), np.fromiter(
                plays.values(), np.float32, len(plays)
            )
        row = self.user_row.get(user)
        if row is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        start, end = self._matrix.indptr[row], self._matrix.indptr[row + 1]
        return self._matrix.indices[start:end].astype(np.int64), self._matrix.data[start:end].astype(
            np.float32
        )

    def record_plays(self, user: str, plays: Mapping[str, float]) -> int:
        """Add plays (item id -> count) to the history, fold the user in again; returns the history size."""
        unknown = [item for item in plays if item not in self.item_row]
        if unknown:
            raise KeyError(f"unknown items: {', '.join(sorted(unknown)[:5])}")
        items, counts = self.history(user)
        current = dict(zip(items.tolist(), counts.tolist(), strict=True))
        for item, count in plays.items():
            current[self.item_row[item]] = current.get(self.item_row[item], 0.0) + float(count)
        self._live[user] = current
        items, counts = self.history(user)
        self._live_factor[user] = self.model.fold_in(items, counts)
        return len(current)

    def history_with(
        self, user: str, online: Mapping[str, float]
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The user's history plus ``online`` plays (item id -> count) kept outside the engine (e.g. Redis).

        Items this model does not know are skipped: the online store outlives any one artifact.
        """
        items, counts = self.history(user)
        if not online:
            return items, counts
        current = dict(zip(items.tolist(), counts.tolist(), strict=True))
        for item, count in online.items():
            row = self.item_row.get(item)
            if row is not None:
                current[row] = current.get(row, 0.0) + float(count)
        return np.fromiter(current, np.int64, len(current)), np.fromiter(
            current.values(), np.float32, len(current)
        )

    def recommend_with(self, user: str, online: Mapping[str, float], k: int = 10) -> list[Scored]:
        """:meth:`recommend` for a history held outside the engine: stateless, so any engine can answer it.

        Without online plays the trained factor is used as is; with them the user is folded in again.
        """
        if not online:
            return self.recommend(user, k)
        items, counts = self.history_with(user, online)
        if len(items) == 0:
            return self.popular(k)
        return self._top(self.model.fold_in(items, counts), items, k)

    def explain_with(
        self, user: str, online: Mapping[str, float], item: str, n: int = 5
    ) -> tuple[float, list[Scored]]:
        """:meth:`explain` over the history plus ``online`` plays."""
        items, counts = self.history_with(user, online)
        total, parts = self.model.explain(items, counts, self.item_row[item], n)
        return total, [Scored(str(self.item_ids[i]), c) for i, c in parts]

    def _factor(self, user: str) -> NDArray[np.float32] | None:
        if user in self._live_factor:
            return self._live_factor[user]
        row = self.user_row.get(user)
        return None if row is None else self.model.user_factors[row]

    def _top(self, factor: NDArray[np.float32], exclude: NDArray[np.int64], k: int) -> list[Scored]:
        if self.use_ann and self.artifact.index is not None:
            candidates = self.artifact.index.query(factor, k + len(exclude))
            keep = candidates[~np.isin(candidates, exclude)][:k]
            scores = self.model.item_factors[keep] @ factor
            return [Scored(str(self.item_ids[i]), float(s)) for i, s in zip(keep, scores, strict=True)]
        scores = self.model.item_factors @ factor
        scores[exclude] = -np.inf
        best = _top_k(scores, k)
        # one vectorised gather + tolist instead of a numpy scalar round trip per item (it showed in profiles)
        ids, values = self.item_ids[best].tolist(), scores[best].tolist()
        return [Scored(str(i), s) for i, s in zip(ids, values, strict=True) if math.isfinite(s)]

    def popular(self, k: int = 10, exclude: NDArray[np.int64] | None = None) -> list[Scored]:
        order = self._popular if exclude is None else self._popular[~np.isin(self._popular, exclude)]
        best = order[:k]
        ids, values = self.item_ids[best].tolist(), self._listeners[best].tolist()
        return [Scored(str(i), s) for i, s in zip(ids, values, strict=True)]

    def recommend(self, user: str, k: int = 10, max_per_cluster: int | None = None) -> list[Scored]:
        """Top-k unplayed items for a known user; popularity for a user with no plays (cold start).

        With ``max_per_cluster``, at most that many items of one taste cluster (diversity re-rank).
        """
        items, _ = self.history(user)
        factor = self._factor(user)
        if factor is None or len(items) == 0:
            return self.popular(k, exclude=items)
        if max_per_cluster is None:
            return self._top(factor, items, k)
        pool = self._top(factor, items, 5 * k)  # enough candidates for the cap to choose from
        rows = np.array([self.item_row[s.item] for s in pool], dtype=np.int64)
        kept = set(cap_per_cluster(rows, self.clusters, k, max_per_cluster).tolist())
        return [s for s, row in zip(pool, rows.tolist(), strict=True) if row in kept]  # still by score

    def recommend_for_items(self, plays: Mapping[str, float], k: int = 10) -> list[Scored]:
        """Cold start with a few named items: fold in a temporary user from them."""
        rows = np.array([self.item_row[i] for i in plays if i in self.item_row], dtype=np.int64)
        if len(rows) == 0:
            return self.popular(k)
        counts = np.array([plays[str(self.item_ids[r])] for r in rows], dtype=np.float32)
        return self._top(self.model.fold_in(rows, counts), rows, k)

    def similar(self, item: str, k: int = 10) -> list[Scored]:
        """Items whose factors point the same way (cosine), the item itself excluded."""
        row = self.item_row[item]
        sims = self._unit_items @ self._unit_items[row]
        sims[row] = -np.inf
        best = top_k(sims[None, :], k)[0]
        return [Scored(str(self.item_ids[i]), float(sims[i])) for i in best]

    def explain(self, user: str, item: str, n: int = 5) -> tuple[float, list[Scored]]:
        """The score of ``item`` for ``user`` and the played items that contributed most to it."""
        items, counts = self.history(user)
        total, parts = self.model.explain(items, counts, self.item_row[item], n)
        return total, [Scored(str(self.item_ids[i]), c) for i, c in parts]
