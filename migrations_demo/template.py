"""Seed once, copy per run: seeded template databases, cloned with ``CREATE DATABASE ... TEMPLATE``.

Seeding a million plays is an INSERT of every row through every index, check and foreign key the schema has
at that revision: half a minute at the later revisions, paid again by each of the bench's 42 runs. A clone
is a copy of the template's files (its visibility map and planner statistics included), a few seconds
whatever the indexes. Each run still starts from a fresh, identical copy that no earlier run has touched,
which is what the protocol needs; only how the copy is made changes.

A template is a database of its own (``mig_tpl_<id>``) holding the seeded schema (``mig_<id>``), one per
(revision, rows), built on first use. Once seeded it refuses connections (``ALLOW_CONNECTIONS false``):
``CREATE DATABASE`` fails while anyone, an autovacuum worker included, is connected to its template.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from observability.pg import libpq_url


def database_url_for(database_url: str, database: str) -> str:
    """The same server, user and options, another database."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/" + database))


@dataclass(frozen=True)
class Template:
    database: str
    schema: str  # unique too: the lock sampler tells sessions apart by application_name "<schema>:<role>"
    revision: str
    rows: int
    checksum: str


@dataclass(frozen=True)
class Clone:
    """One run's private copy: its database, the URL to reach it, the seeded schema's name and checksum."""

    database: str
    database_url: str
    schema: str
    rows: int
    checksum: str


# prepare(database_url, schema, revision, rows) -> {"rows": ..., "checksum": ...}; run by the deploy worker
Prepare = Callable[[str, str, str, int], dict[str, Any]]


class Templates:
    """The templates of one bench (or live) invocation; :meth:`close` drops them all."""

    def __init__(self, database_url: str, prepare: Prepare) -> None:
        self.database_url = database_url
        self._prepare = prepare
        self._built: dict[tuple[str, int], Template] = {}

    @property
    def built(self) -> list[Template]:
        return list(self._built.values())

    def clone(self, revision: str, rows: int) -> Clone:
        template = self._template(revision, rows)
        name = f"mig_run_{uuid.uuid4().hex[:10]}"
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template.database)
        )
        if self._server_version() >= 150000:
            # PostgreSQL 15's default (WAL_LOG) writes the whole copy to the WAL, which brings the next
            # checkpoint forward into the measurement; FILE_COPY (the only way before 15) copies the files
            # between two checkpoints instead, so every run starts from a fresh checkpoint and a full WAL
            # budget, and no checkpoint's write-out falls inside one run's window but not another's.
            create += sql.SQL(" STRATEGY FILE_COPY")
        self._admin(create)
        url = database_url_for(self.database_url, name)
        return Clone(name, url, template.schema, template.rows, template.checksum)

    def drop(self, clone: Clone) -> None:
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(clone.database)))

    def close(self) -> None:
        for template in self._built.values():
            name = sql.Identifier(template.database)
            self._admin(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(name))
            self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        self._built.clear()

    def _template(self, revision: str, rows: int) -> Template:
        key = (revision, rows)
        if key not in self._built:
            token = uuid.uuid4().hex[:10]
            name, schema = f"mig_tpl_{token}", f"mig_{token}"
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            try:
                seeded = self._prepare(database_url_for(self.database_url, name), schema, revision, rows)
            except BaseException:
                self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                raise
            ident = sql.Identifier(name)
            self._admin(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true").format(ident)
            )
            self._built[key] = Template(name, schema, revision, int(seeded["rows"]), str(seeded["checksum"]))
        return self._built[key]

    def _server_version(self) -> int:
        with psycopg.connect(libpq_url(self.database_url)) as conn:
            return conn.info.server_version

    def _admin(self, statement: sql.Composed) -> None:
        # CREATE/DROP DATABASE cannot run in a transaction block, hence autocommit
        with psycopg.connect(libpq_url(self.database_url), autocommit=True) as conn:
            conn.execute(statement)
