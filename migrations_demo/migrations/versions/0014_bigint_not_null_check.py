"""int_to_bigint, step 2: ``CHECK (id_new IS NOT NULL) NOT VALID``: 0016 can SET NOT NULL without a scan."""

from migrations_demo.ops import run_ddl

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    run_ddl("ALTER TABLE plays ADD CONSTRAINT plays_id_new_not_null CHECK (id_new IS NOT NULL) NOT VALID")


def downgrade() -> None:
    run_ddl("ALTER TABLE plays DROP CONSTRAINT IF EXISTS plays_id_new_not_null")
