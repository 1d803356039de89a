"""The built answer book (``site/``, from ``make docs``) on the shared observability stack, for ``make demo``.

A static site needs only a file server; this one is a FastAPI app so ``make demo`` starts, health-checks and
stops it like every other app, and its requests show up in the same logs and metrics. ``/healthz`` and
``/metrics`` are routes; everything else is the site (``html=True`` serves ``dir/index.html`` for ``dir/``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic_settings import BaseSettings, SettingsConfigDict

from answers.docs import SITE_DIR
from observability import instrument

SERVICE = "answers-book"


class BookSettings(BaseSettings):
    """Where the built site is; env ``ANSWERS_BOOK_SITE_DIR``."""

    model_config = SettingsConfigDict(env_prefix="ANSWERS_BOOK_")

    site_dir: Path = SITE_DIR


def is_built(site_dir: Path) -> bool:
    return (site_dir / "index.html").is_file()


def create_app(settings: BookSettings | None = None) -> FastAPI:
    settings = settings or BookSettings()
    if not is_built(settings.site_dir):
        raise RuntimeError(f"the answer book is not built in {settings.site_dir}: run make docs")
    app = FastAPI(title="backend-answers: the answer book", docs_url=None, redoc_url=None, openapi_url=None)
    instrument(app, service=SERVICE)
    app.mount("/", StaticFiles(directory=settings.site_dir, html=True), name="book")
    return app
