"""add_check, step 2: VALIDATE in its own transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on)."""

from migrations_demo.ops import run_ddl

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    run_ddl("ALTER TABLE plays VALIDATE CONSTRAINT plays_ms_played_nonnegative", non_blocking=True)


def downgrade() -> None:
    """Nothing to undo: a constraint cannot be marked NOT VALID again; 0005's downgrade drops it."""
