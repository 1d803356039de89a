"""Versioned model artifacts: one folder per trained model, written atomically, newest loaded by the service.

A folder ``<root>/<version>/`` holds ``manifest.json`` (version, engine, parameters, offline metrics, the
data's SHA-256 and size), ``model.npz`` (user and item factors, external ids), ``history.npz`` (the training
matrix: the service needs each user's plays to exclude them and to fold new plays in) and ``ann-*.voy`` +
``ann.npz`` (the Voyager index over item factors). The folder is assembled under a hidden temporary name and
renamed into place, so a reader never sees half an artifact; versions sort by creation time, so "newest" is
the largest name.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.ann import DEFAULT_EF_SEARCH, ItemIndex
from recommender.data.download import DATA_DIR
from recommender.data.interactions import Interactions
from recommender.models.als import ALS

FORMAT_VERSION = 1
MODELS_DIR = DATA_DIR / "models"
MANIFEST = "manifest.json"


class ArtifactError(RuntimeError):
    """No artifact, or one that is incomplete or of an unknown format."""


@dataclass
class Artifact:
    manifest: dict[str, Any]
    model: ALS
    interactions: Interactions
    index: ItemIndex | None
    path: Path

    @property
    def version(self) -> str:
        return str(self.manifest["version"])


def new_version(data_hash: str) -> str:
    """UTC time to the microsecond (sorts as text), then the start of the data hash (what it learned from)."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + data_hash[:8]


def save(
    root: Path,
    model: ALS,
    interactions: Interactions,
    *,
    engine: str,
    metrics: dict[str, float],
    index: ItemIndex | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a complete artifact under ``root`` and return its folder."""
    data_hash = interactions.content_hash()
    version = new_version(data_hash)
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".tmp-{version}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        np.savez(
            staging / "model.npz",
            user_factors=model.user_factors,
            item_factors=model.item_factors,
            user_ids=interactions.user_ids,
            item_ids=interactions.item_ids,
        )
        matrix = interactions.matrix.tocsr()
        np.savez(
            staging / "history.npz",
            data=matrix.data,
            indices=matrix.indices,
            indptr=matrix.indptr,
            shape=np.array(matrix.shape),
        )
        if index is not None:
            index.save(staging)
        manifest = {
            "format": FORMAT_VERSION,
            "version": version,
            "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "engine": engine,
            "model": "als",
            "params": model.params(),
            "metrics": metrics,
            "data": {
                "name": interactions.name,
                "sha256": data_hash,
                "users": interactions.n_users,
                "items": interactions.n_items,
                "interactions": interactions.n_interactions,
            },
            "ann": {"space": "inner_product", "ef_search": index.ef_search, "buckets": len(index.parts)}
            if index is not None
            else None,
            **(extra or {}),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        for file in staging.iterdir():  # durable before visible: a crash after the rename leaves whole files
            with file.open("rb") as handle:
                os.fsync(handle.fileno())
        final = root / version
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def versions(root: Path) -> list[Path]:
    """Complete artifacts under ``root``, oldest first (hidden staging folders are not artifacts)."""
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file()
    )


def load(path: Path) -> Artifact:
    """Load one artifact folder."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: unreadable manifest ({exc})") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise ArtifactError(f"{path}: artifact format {manifest.get('format')!r}, expected {FORMAT_VERSION}")
    with np.load(path / "model.npz") as arrays:
        user_factors, item_factors = arrays["user_factors"], arrays["item_factors"]
        user_ids, item_ids = arrays["user_ids"], arrays["item_ids"]
    with np.load(path / "history.npz") as arrays:
        matrix = sp.csr_matrix(
            (arrays["data"], arrays["indices"], arrays["indptr"]), shape=tuple(arrays["shape"])
        )
    params = manifest["params"]
    known = (
        "factors",
        "regularization",
        "alpha",
        "scale",
        "iterations",
        "cg_steps",
        "seed",
        "scale_regularization",
    )
    model = ALS(**{k: params[k] for k in known if k in params})
    model.user_factors, model.item_factors = user_factors, item_factors
    interactions = Interactions(
        matrix=matrix, user_ids=user_ids, item_ids=item_ids, name=manifest["data"]["name"]
    )
    index = None
    if ItemIndex.exists(path):
        index = ItemIndex.load(
            path,
            model.item_factors,
            ef_search=int((manifest.get("ann") or {}).get("ef_search", DEFAULT_EF_SEARCH)),
        )
    return Artifact(manifest=manifest, model=model, interactions=interactions, index=index, path=path)


def load_newest(root: Path = MODELS_DIR) -> Artifact:
    found = versions(root)
    if not found:
        raise ArtifactError(f"no model artifact under {root}; train one with `python -m recommender.train`")
    return load(found[-1])
