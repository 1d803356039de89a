"""The catalog service (Q4: optimising an API's performance, measured before and after).

Users, artists, albums, tracks, playlists (owner, public or private, ordered tracks) and libraries, served
twice: ``/v1`` as commonly first written and ``/v2`` optimised, with identical JSON. ``create_app`` builds the
FastAPI app; ``python -m catalog.seed`` fills a schema; ``python -m catalog.bench`` measures v1 against v2;
``python -m catalog.relay`` publishes the play events of the outbox (Q9).

The public names load on first use (PEP 562), so a process that needs only a submodule (the relay) does not
import the whole web service first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catalog.service import create_app
    from catalog.settings import CatalogSettings

__all__ = ["CatalogSettings", "create_app"]
_HOMES = {"CatalogSettings": "catalog.settings", "create_app": "catalog.service"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'catalog' has no attribute {name!r}")
