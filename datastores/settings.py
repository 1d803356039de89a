"""Where the demo finds PostgreSQL: ``DATABASE_URL`` (shared with every package) and the schema its Alembic
chain goes into (``DATASTORES_SCHEMA``). Redis needs no setting: the benchmark starts private servers."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.pg import checked_schema

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_SCHEMA = "datastores"


class DatastoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DATASTORES_", extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    schema_name: str = Field(default=DEFAULT_SCHEMA, validation_alias="DATASTORES_SCHEMA")

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgresql+", "postgres://")):
            raise ValueError("the datastores demo needs a PostgreSQL DATABASE_URL (postgresql://...)")
        return value

    @field_validator("schema_name")
    @classmethod
    def _plain_schema(cls, value: str) -> str:
        return checked_schema(value)
