"""Recommendation models: baselines, ALS, EASE, the two-stage ranker and the diversity re-rank."""

from recommender.models.als import ALS
from recommender.models.base import Recommender, top_k
from recommender.models.diversity import cap_per_cluster, item_clusters
from recommender.models.ease import EASE
from recommender.models.item_knn import ItemKNN
from recommender.models.popularity import Popularity
from recommender.models.ranker import TwoStageRanker

__all__ = [
    "ALS",
    "EASE",
    "ItemKNN",
    "Popularity",
    "Recommender",
    "TwoStageRanker",
    "cap_per_cluster",
    "item_clusters",
    "top_k",
]
