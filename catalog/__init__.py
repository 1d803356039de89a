"""The catalog service (Q4: optimising an API's performance, measured before and after).

Users, artists, albums, tracks, playlists (owner, public or private, ordered tracks) and libraries, served
twice: ``/v1`` as commonly first written and ``/v2`` optimised, with identical JSON. ``create_app`` builds the
FastAPI app; ``python -m catalog.seed`` fills a schema; ``python -m catalog.bench`` measures v1 against v2.
"""

from catalog.service import create_app
from catalog.settings import CatalogSettings

__all__ = ["CatalogSettings", "create_app"]
