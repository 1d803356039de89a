"""add_column, expand: ``plays.public_id`` as a nullable column whose default covers new rows only.

``ADD COLUMN ... NOT NULL DEFAULT gen_random_uuid()`` in one step rewrites the whole table under an ACCESS
EXCLUSIVE lock (the default is volatile). Instead: a nullable column (catalog-only change), then a default
that applies to rows inserted from now on, then ``python -m migrations_demo.backfill plays_public_id`` fills
the existing rows in batches, and 0003/0004 make it NOT NULL without a scan under lock.
"""

from migrations_demo.ops import run_ddl

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    run_ddl(
        "ALTER TABLE plays ADD COLUMN public_id uuid",
        "ALTER TABLE plays ALTER COLUMN public_id SET DEFAULT gen_random_uuid()",
    )


def downgrade() -> None:
    run_ddl("ALTER TABLE plays DROP COLUMN IF EXISTS public_id")
