"""int_to_bigint, step 3: finish the backfill, VALIDATE the check, build the future primary key

The index is built concurrently, outside the transaction.
"""

from migrations_demo.ops import create_index_concurrently, drop_index_concurrently, ensure_backfilled, run_ddl

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    ensure_backfilled("plays_id_new")
    run_ddl(
        "-- idempotent as it stands: VALIDATE of an already valid constraint does nothing\n"
        "-- squawk-ignore prefer-robust-stmts\n"
        "ALTER TABLE plays VALIDATE CONSTRAINT plays_id_new_not_null",
        non_blocking=True,
    )
    create_index_concurrently("plays_id_new_key", "plays", ["id_new"], unique=True)


def downgrade() -> None:
    drop_index_concurrently("plays_id_new_key")
