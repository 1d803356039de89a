"""add_unique: ``CREATE UNIQUE INDEX CONCURRENTLY``, then ``ADD CONSTRAINT ... UNIQUE USING INDEX``.

``ADD CONSTRAINT ... UNIQUE (public_id)`` builds the index under ACCESS EXCLUSIVE: nothing can even read
``plays`` during the build. Built concurrently first, the index becomes the constraint in a catalog-only step.
"""

from migrations_demo.ops import create_index_concurrently, run_ddl

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    create_index_concurrently("plays_public_id_key", "plays", ["public_id"], unique=True)
    run_ddl("ALTER TABLE plays ADD CONSTRAINT plays_public_id_key UNIQUE USING INDEX plays_public_id_key")


def downgrade() -> None:
    run_ddl("ALTER TABLE plays DROP CONSTRAINT IF EXISTS plays_public_id_key")
