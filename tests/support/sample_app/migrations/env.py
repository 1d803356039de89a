"""A minimal Alembic environment following the project convention; it exists to test the migration helper."""

from alembic import context

from observability.alembic_env import run_migrations

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("sqlalchemy.url is required")
run_migrations(config.get_main_option("schema") or "sample_app", url)
