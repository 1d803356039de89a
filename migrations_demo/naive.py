"""The naive counterparts: what each migration looks like when written the obvious way.

They live apart from the Alembic chain (never applied by ``alembic upgrade``) and are used only by the live
comparison and the lint test. Each runs as one transaction with no ``lock_timeout`` and no
``statement_timeout``, as a hand-written migration would. ``rules`` are the squawk rules that must flag
it: the lint test proves the linter catches every one of them, and the harness measures what it costs the
clients.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NaiveMigration:
    statements: tuple[str, ...]
    why: str  # what goes wrong on a live table
    rules: frozenset[str]  # squawk rules that flag it


ADD_FOREIGN_KEY = (
    "ALTER TABLE plays ADD CONSTRAINT plays_track_id_fkey FOREIGN KEY (track_id) REFERENCES tracks (id)"
)

NAIVE: dict[str, NaiveMigration] = {
    "add_column": NaiveMigration(
        ("ALTER TABLE plays ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid()",),
        "a volatile default rewrites every row under ACCESS EXCLUSIVE: no reads, no writes until it is done",
        frozenset({"adding-field-with-default"}),
    ),
    "add_check": NaiveMigration(
        ("ALTER TABLE plays ADD CONSTRAINT plays_ms_played_nonnegative CHECK (ms_played >= 0)",),
        "scans every row while holding ACCESS EXCLUSIVE",
        frozenset({"constraint-missing-not-valid"}),
    ),
    "add_index": NaiveMigration(
        ("CREATE INDEX ix_plays_track_id ON plays (track_id)",),
        "holds a SHARE lock for the whole build: every insert and update waits",
        frozenset({"require-concurrent-index-creation"}),
    ),
    "add_foreign_key": NaiveMigration(
        (ADD_FOREIGN_KEY,),
        "validates every play while holding SHARE ROW EXCLUSIVE on plays and tracks: writes to both wait",
        frozenset({"adding-foreign-key-constraint", "constraint-missing-not-valid"}),
    ),
    "add_unique": NaiveMigration(
        ("ALTER TABLE plays ADD CONSTRAINT plays_public_id_key UNIQUE (public_id)",),
        "builds the unique index under ACCESS EXCLUSIVE: not even reads get through",
        frozenset({"disallowed-unique-constraint"}),
    ),
    "rename_column": NaiveMigration(
        ("ALTER TABLE plays RENAME COLUMN ms_played TO played_ms",),
        "instant, and every instance still running the old code fails until the deploy finishes",
        frozenset({"renaming-column"}),
    ),
    "int_to_bigint": NaiveMigration(
        ("ALTER TABLE plays ALTER COLUMN id TYPE bigint", "ALTER SEQUENCE plays_id_seq AS bigint"),
        "rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE",
        frozenset({"changing-column-type"}),
    ),
}


def as_script(name: str) -> str:
    """The naive migration as the SQL file a reviewer (or squawk) would see."""
    body = "".join(f"{statement};\n" for statement in NAIVE[name].statements)
    return f"BEGIN;\n{body}COMMIT;\n"
