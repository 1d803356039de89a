"""Which requests a rule covers: a route template, a path prefix, and optionally methods.

ASGI middleware runs before the router, so it cannot ask the app which route matched. Instead a rule names a
route template (``/users/{user_id}``, compiled with Starlette's own ``compile_path`` so the syntax and
converters are the ones the app uses) or a path prefix (``/api/``), and we match ``scope["path"]`` ourselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from starlette.routing import compile_path
from starlette.types import Scope


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """``RouteMatch(route="/users/{user_id}")``, ``RouteMatch(prefix="/api/")``, ``RouteMatch()`` for all."""

    route: str | None = None
    prefix: str | None = None
    methods: frozenset[str] | None = None
    _regex: re.Pattern[str] | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.route is not None and self.prefix is not None:
            raise ValueError("match a route template or a path prefix, not both")
        if self.route is not None:
            regex, _, _ = compile_path(self.route)
            object.__setattr__(self, "_regex", regex)
        if self.methods is not None:
            object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))

    @property
    def label(self) -> str:
        """A short, low-cardinality name for logs and metrics (never the concrete path)."""
        return self.route or (f"{self.prefix}*" if self.prefix is not None else "*")

    def matches(self, scope: Scope) -> bool:
        if self.methods is not None and scope.get("method", "GET") not in self.methods:
            return False
        path: str = scope.get("path", "")
        if self._regex is not None:
            return self._regex.match(path) is not None
        if self.prefix is not None:
            return path.startswith(self.prefix)
        return True
