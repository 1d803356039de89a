"""Idempotency keys (Q9): a keyed POST commits its key and its answer with its effect, so a retry acts once.

One new table, created with its index in the same transaction while both are empty, so no existing row is
rewritten and no index build competes with live writes. It has no foreign key, so unlike 0003 it takes no lock
on ``users``; ``lock_timeout`` and ``statement_timeout`` are still set, so that if anything does queue (the
catalog's own DDL, say) the migration fails fast and is retried instead of stalling traffic behind it (Q2).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

BigId = sa.BigInteger()
Timestamp = sa.DateTime(timezone=True)


def _timeouts() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '30s'")


def upgrade() -> None:
    _timeouts()
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", BigId, primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("response_status", sa.BigInteger(), nullable=True),
        sa.Column("response_location", sa.Text(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    _timeouts()
    op.drop_table("idempotency_keys")
