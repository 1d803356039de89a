"""add_column, step 2: ``CHECK (public_id IS NOT NULL) NOT VALID``.

``NOT VALID`` skips the scan of existing rows, so the ACCESS EXCLUSIVE lock lasts milliseconds; new and
updated rows are checked from now on.
"""

from migrations_demo.ops import run_ddl

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    run_ddl(
        "ALTER TABLE plays ADD CONSTRAINT plays_public_id_not_null CHECK (public_id IS NOT NULL) NOT VALID"
    )


def downgrade() -> None:
    run_ddl("ALTER TABLE plays DROP CONSTRAINT IF EXISTS plays_public_id_not_null")
