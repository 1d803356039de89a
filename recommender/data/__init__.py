"""Data for the recommender: loaders for real logs, the synthetic generator, the verified download."""

from recommender.data.download import ChecksumError, download_lastfm, find_lastfm
from recommender.data.interactions import Interactions, from_triples
from recommender.data.loaders import (
    FORMATS,
    DataFormatError,
    Format,
    load,
    load_csv,
    load_lastfm,
    load_movielens,
)
from recommender.data.synthetic import SyntheticTruth, generate, synthetic

__all__ = [
    "FORMATS",
    "ChecksumError",
    "DataFormatError",
    "Format",
    "Interactions",
    "SyntheticTruth",
    "download_lastfm",
    "find_lastfm",
    "from_triples",
    "generate",
    "load",
    "load_csv",
    "load_lastfm",
    "load_movielens",
    "synthetic",
]
