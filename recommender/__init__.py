"""Music recommender (Q1): data, models, offline evaluation, ANN index, versioned artifacts, Spark path.

The offline half: ``python -m recommender.evaluate`` compares our models with implicit's on the same splits,
``python -m recommender.train`` writes an artifact, and :class:`Engine` is what an online service calls.
The online half: ``python -m recommender.service`` (``create_app`` in :mod:`recommender.service`) serves the
newest artifact with a Redis-backed online history and cache, hot-swapping newer ones; ``python -m
recommender.consumer`` applies the catalog's play events from the ``plays`` stream exactly once.
"""

from recommender.ann import ItemIndex
from recommender.artifact import Artifact, ArtifactError, load_newest
from recommender.engine import Engine, Scored

__all__ = ["Artifact", "ArtifactError", "Engine", "ItemIndex", "Scored", "load_newest"]
