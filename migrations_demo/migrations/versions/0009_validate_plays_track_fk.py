"""add_foreign_key, step 2: VALIDATE in a separate transaction.

VALIDATE takes SHARE UPDATE EXCLUSIVE on plays and ROW SHARE on tracks: reads and writes on both go on.
"""

from migrations_demo.ops import run_ddl

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    run_ddl("ALTER TABLE plays VALIDATE CONSTRAINT plays_track_id_fkey", non_blocking=True)


def downgrade() -> None:
    """Nothing to undo: 0008's downgrade drops the constraint."""
