"""Music recommender (Q1): data, models, offline evaluation, ANN index, versioned artifacts, Spark path.

The offline half: ``python -m recommender.evaluate`` compares our models with implicit's on the same splits,
``python -m recommender.train`` writes an artifact, and :class:`Engine` is what an online service calls.
"""

from recommender.ann import ItemIndex
from recommender.artifact import Artifact, ArtifactError, load_newest
from recommender.engine import Engine, Scored

__all__ = ["Artifact", "ArtifactError", "Engine", "ItemIndex", "Scored", "load_newest"]
