"""Map a finished request to its route *template* (``/users/{user_id}``), never its raw path (``/users/42``).

The template is what keeps the ``route`` label bounded: a raw path gives every id its own time series, and one
crawler can then create millions (the cardinality problem,
https://prometheus.io/docs/practices/naming/#labels).

How: the router records what it matched in the ASGI scope (``scope["route"]`` for FastAPI routes,
``scope["endpoint"]`` for plain Starlette routes and mounts). FastAPI 0.165 (pinned) keeps routes of an
included router un-prefixed (``scope["route"].path == "/{user_id}"`` under ``prefix="/users"``), and a mounted
app's routes know nothing of the mount, so we walk the app's route tree once with FastAPI's public
``iter_route_contexts`` (which applies the prefixes) and map each matched object to its full template. Each
request is then one dict lookup. Nothing matched -> ``<unmatched>``; a mount whose app found nothing -> the
mount's template (``/static/{path}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute, compile_path
from starlette.types import Scope

UNMATCHED = "<unmatched>"

# One template, or several when the same route object is reachable twice (a router included under two
# prefixes, an app mounted twice): then the request path decides between them.
_Entry = str | tuple[tuple[str, re.Pattern[str]], ...]


class RouteTemplates:
    """Resolves ``scope -> template`` for one top-level app; the table is built on first use."""

    def __init__(self, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self._routes = routes
        self._table: dict[int, _Entry] | None = None

    @classmethod
    def of(cls, app: Any) -> RouteTemplates:
        return cls(lambda: app.routes)

    def template(self, scope: Scope, root_path: str = "") -> str:
        """``root_path`` is the scope's root path as the top-level app received it (mounts extend it)."""
        key = scope.get("route") or scope.get("endpoint")
        if key is None:
            return UNMATCHED
        table = self._table if self._table is not None else self._build()
        entry = table.get(id(key))
        if entry is None:
            entry = self._unknown(key)
        if isinstance(entry, str):
            return entry
        path = scope["path"][len(root_path) :]
        for template, regex in entry:
            if regex.match(path):
                return template
        return entry[0][0]

    def _unknown(self, key: object) -> _Entry:
        # Routes added after the first request: rebuild once. Still unknown (should not happen): the object's
        # own template, remembered, so the table stays bounded by the number of route objects.
        entry = self._build().get(id(key))
        if entry is None:
            entry = str(getattr(key, "path_format", None) or UNMATCHED)
            assert self._table is not None
            self._table[id(key)] = entry
        return entry

    def _build(self) -> dict[int, _Entry]:
        found: dict[int, list[tuple[str, str]]] = {}
        _walk(self._routes(), "", found)
        table: dict[int, _Entry] = {}
        for key, pairs in found.items():
            unique = list(dict.fromkeys(pairs))
            if len(unique) == 1:
                table[key] = unique[0][0]
            else:
                table[key] = tuple((template, compile_path(pattern)[0]) for template, pattern in unique)
        self._table = table
        return table


def _walk(routes: Sequence[BaseRoute], prefix: str, found: dict[int, list[tuple[str, str]]]) -> None:
    """Collect ``id(matched object) -> [(template, pattern to match the full path)]`` for a route tree."""

    def add(key: object, template: str, pattern: str | None = None) -> None:
        found.setdefault(id(key), []).append((template, pattern or template))

    for context in iter_route_contexts(routes):
        route, path_format = context.original_route, context.path_format
        if path_format is None:
            continue  # e.g. a Host route: no path template to report
        template = prefix + path_format
        if isinstance(route, Mount):
            mount_prefix = template.removesuffix("/{path}")
            add(route.app, template, mount_prefix + "/{path:path}")  # scope["endpoint"] of a mount is its app
            _walk(route.routes, mount_prefix, found)
        elif isinstance(route, Route | WebSocketRoute):
            add(route, template)  # FastAPI's routes put themselves in scope["route"]
            add(route.endpoint, template)  # plain Starlette routes only leave scope["endpoint"]
