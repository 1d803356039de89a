"""${message}"""

from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}


def upgrade() -> None:
    ${upgrades if upgrades else 'op.execute("SELECT 1")'}


def downgrade() -> None:
    ${downgrades if downgrades else 'op.execute("SELECT 1")'}
