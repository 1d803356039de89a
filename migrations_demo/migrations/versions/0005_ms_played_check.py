"""add_check: ``CHECK (ms_played >= 0) NOT VALID``: enforced for new writes at once, no scan under lock."""

from migrations_demo.ops import run_ddl

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    run_ddl("ALTER TABLE plays ADD CONSTRAINT plays_ms_played_nonnegative CHECK (ms_played >= 0) NOT VALID")


def downgrade() -> None:
    run_ddl("ALTER TABLE plays DROP CONSTRAINT IF EXISTS plays_ms_played_nonnegative")
