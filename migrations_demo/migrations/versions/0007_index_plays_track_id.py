"""add_index: ``CREATE INDEX CONCURRENTLY`` outside the transaction, dropping an INVALID leftover first.

A plain ``CREATE INDEX`` holds a SHARE lock for the whole build: reads go on, every write waits.
``CONCURRENTLY`` builds in two passes under SHARE UPDATE EXCLUSIVE, which writes do not conflict with; it
cannot run inside a transaction block, hence the autocommit block in the helper.
"""

from migrations_demo.ops import create_index_concurrently, drop_index_concurrently

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    create_index_concurrently("ix_plays_track_id", "plays", ["track_id"])


def downgrade() -> None:
    drop_index_concurrently("ix_plays_track_id")
