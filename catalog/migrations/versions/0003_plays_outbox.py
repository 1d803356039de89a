"""Plays and the transactional outbox (Q9): a play and the event announcing it commit together.

Two new tables, so no existing row is rewritten and no index build competes with live writes: the indexes are
created with their (empty) tables in the same transaction. The foreign keys to ``users`` and ``tracks`` take a
SHARE ROW EXCLUSIVE lock on those tables, which waits behind any long transaction and, while waiting, blocks
every writer queued after it; ``lock_timeout`` bounds that wait, so a busy moment makes the migration fail
fast and retry instead of stalling the catalog (Q2), and ``statement_timeout`` bounds the rest. squawk passes
the revision's SQL with no exception (``tests/catalog/test_outbox_migration.py``).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"

BigId = sa.BigInteger()
Timestamp = sa.DateTime(timezone=True)


def _timeouts() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '30s'")


def upgrade() -> None:
    _timeouts()
    op.create_table(
        "plays",
        sa.Column("id", BigId, sa.Identity(), primary_key=True),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("track_id", BigId, sa.ForeignKey("tracks.id"), nullable=False),
        sa.Column("played_at", Timestamp, nullable=False),
    )
    op.create_index("ix_plays_user_played_at", "plays", ["user_id", "played_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", Timestamp, nullable=True),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["topic", "created_at"],
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    _timeouts()
    op.drop_table("outbox")
    op.drop_table("plays")
