"""Where the demo finds PostgreSQL: ``DATABASE_URL`` (shared with every package) and the schema its Alembic
chain goes into (``DATASTORES_SCHEMA``). Redis needs no setting: the benchmark starts private servers."""

from __future__ import annotations

import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_SCHEMA = "datastores"
SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


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


def checked_schema(schema: str) -> str:
    """Schema names end up in DDL text, so only plain lower-case identifiers are accepted."""
    if not SCHEMA_RE.fullmatch(schema):
        raise ValueError(f"schema must be a plain lower-case identifier, got {schema!r}")
    return schema


def libpq_url(database_url: str) -> str:
    """``postgresql+driver://...`` -> ``postgresql://...``."""
    return "postgresql://" + database_url.partition("://")[2]


def psycopg_sqlalchemy_url(database_url: str) -> str:
    """The synchronous URL Alembic runs on."""
    return "postgresql+psycopg://" + database_url.partition("://")[2]


def asyncpg_sqlalchemy_url(database_url: str) -> str:
    return "postgresql+asyncpg://" + database_url.partition("://")[2]
