"""add_column, contract: VALIDATE the check, ``SET NOT NULL`` (no scan on PostgreSQL 12+), drop the check.

VALIDATE scans the table under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on (nothing stronger is
held yet in this transaction). ``SET NOT NULL`` then needs ACCESS EXCLUSIVE only for a catalog update, because
the validated check already proves there is no NULL. The downgrade adds the check back NOT VALID and commits
before validating: validated in the same transaction, the scan would run under the ADD's ACCESS EXCLUSIVE.
"""

from migrations_demo.ops import ensure_backfilled, run_autocommit, run_ddl

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    ensure_backfilled("plays_public_id")
    run_ddl("ALTER TABLE plays VALIDATE CONSTRAINT plays_public_id_not_null", non_blocking=True)
    run_ddl(
        "ALTER TABLE plays ALTER COLUMN public_id SET NOT NULL",
        "-- the NOT NULL set just above now gives the same guarantee\n-- squawk-ignore ban-drop-constraint\n"
        "ALTER TABLE plays DROP CONSTRAINT plays_public_id_not_null",
    )


def downgrade() -> None:
    run_ddl(
        "ALTER TABLE plays ADD CONSTRAINT plays_public_id_not_null CHECK (public_id IS NOT NULL) NOT VALID",
        "ALTER TABLE plays ALTER COLUMN public_id DROP NOT NULL",
    )
    run_autocommit("ALTER TABLE plays VALIDATE CONSTRAINT plays_public_id_not_null")
