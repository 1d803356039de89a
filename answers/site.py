"""The answers site: the twelve answers rendered as HTML, with their charts, on the shared observability
stack.

``create_app`` does all the work when called (uvicorn ``--factory`` calls it with no arguments), so importing
this module is free. Answers are read from disk on each request, so an edited answer shows on reload.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from pydantic_settings import BaseSettings, SettingsConfigDict

from answers import book, render
from answers.questions import question
from observability import ApiError, instrument
from observability.results import RESULTS_DIR

SERVICE = "answers-site"
_CHART_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.png")
_ANSWER_REF_RE = re.compile(r"(?:q)?(?P<number>\d{1,2})(?:-[A-Za-z0-9_-]+)?(?:\.md)?")


class SiteSettings(BaseSettings):
    """Where the site reads from; env ``ANSWERS_SITE_ANSWERS_DIR`` / ``ANSWERS_SITE_RESULTS_DIR``."""

    model_config = SettingsConfigDict(env_prefix="ANSWERS_SITE_")

    answers_dir: Path = book.ANSWERS_DIR
    results_dir: Path = RESULTS_DIR


def _not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", what)


def _answer_path(settings: SiteSettings, ref: str) -> tuple[int, Path]:
    """``8``, ``q08`` or ``q08-logging-and-monitoring.md`` -> (8, its file); 404 for anything else."""
    match = _ANSWER_REF_RE.fullmatch(ref)
    found = book.discover(settings.answers_dir)
    number = int(match.group("number")) if match else 0
    path = found.get(number)
    named = not re.fullmatch(r"q?\d{1,2}", ref)  # a file name must be the exact one, not any qNN-* text
    if path is None or (named and ref not in {path.name, path.stem}):
        raise _not_found(f"no answer {ref!r}; the index at / lists the answers")
    return number, path


def create_app(settings: SiteSettings | None = None) -> FastAPI:
    settings = settings or SiteSettings()
    app = FastAPI(title="backend-answers: the answer book", version="0.1.0")
    instrument(app, service=SERVICE)

    @app.get("/", response_class=HTMLResponse, summary="The twelve questions, answered or not")
    def index() -> HTMLResponse:
        answered = {n: f"/answers/{path.name}" for n, path in book.discover(settings.answers_dir).items()}
        return HTMLResponse(render.index_page(answered))

    @app.get("/answers/{ref}", response_class=HTMLResponse, summary="One answer, rendered")
    def answer(ref: str) -> HTMLResponse:
        number, path = _answer_path(settings, ref)
        return HTMLResponse(render.answer_page(question(number), path.read_text(encoding="utf-8")))

    @app.get("/results/{name}", response_class=FileResponse, summary="A chart from results/")
    def chart(name: str) -> FileResponse:
        # only PNG files directly inside results/: the name pattern rules out paths and dotfiles
        path = settings.results_dir / name
        if not _CHART_RE.fullmatch(name) or not path.is_file():
            raise _not_found(f"no chart {name!r} in results/")
        return FileResponse(path, media_type="image/png")

    return app
