"""${message}"""

from migrations_demo.ops import run_ddl

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}


def upgrade() -> None:
    ${upgrades if upgrades else 'run_ddl("SELECT 1")'}


def downgrade() -> None:
    ${downgrades if downgrades else 'run_ddl("SELECT 1")'}
