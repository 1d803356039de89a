"""make demo serves the built book: the static site behind /, with /healthz and /metrics, once built."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from answers import stack
from answers.docs_app import BookSettings, create_app


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "answers" / "q07-cap").mkdir(parents=True)
    (tmp_path / "index.html").write_text("<h1>The twelve questions</h1>", encoding="utf-8")
    (tmp_path / "answers" / "q07-cap" / "index.html").write_text("<h1>CAP</h1>", encoding="utf-8")
    (tmp_path / "404.html").write_text("<h1>Not here</h1>", encoding="utf-8")
    return tmp_path


@pytest.fixture
async def client(site: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(BookSettings(site_dir=site)))
    async with httpx.AsyncClient(transport=transport, base_url="http://book.test") as test_client:
        yield test_client


@pytest.mark.integration
async def test_the_book_is_served_with_health_and_metrics(client: httpx.AsyncClient) -> None:
    index = await client.get("/")
    page = await client.get("/answers/q07-cap/")
    assert (index.status_code, page.status_code) == (200, 200)
    assert "The twelve questions" in index.text
    assert "CAP" in page.text
    assert (await client.get("/healthz")).status_code == 200
    assert "http_requests_total" in (await client.get("/metrics")).text


@pytest.mark.integration
async def test_a_missing_page_gets_the_sites_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/answers/q99-nothing/")
    assert response.status_code == 404
    assert "Not here" in response.text


@pytest.mark.unit
def test_an_unbuilt_book_is_refused_with_the_command_that_builds_it(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"not built in .*: run make docs"):
        create_app(BookSettings(site_dir=tmp_path))


@pytest.mark.unit
def test_make_demo_starts_the_book_only_once_it_is_built(
    site: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    monkeypatch.setenv("ANSWERS_BOOK_SITE_DIR", str(site))
    assert stack.BOOK in stack.runnable(stack.APPS, said.append)
    assert said == []
    empty = tmp_path_factory.mktemp("unbuilt")
    monkeypatch.setenv("ANSWERS_BOOK_SITE_DIR", str(empty))
    assert stack.BOOK not in stack.runnable(stack.APPS, said.append)
    assert said == [f"book: not built yet ({empty}); `make docs` builds it, `make demo` too"]


@pytest.mark.unit
def test_the_url_table_shows_the_book_and_its_metrics_but_no_api_docs() -> None:
    with subprocess.Popen([sys.executable, "-c", "pass"]) as process:
        process.wait(timeout=30)
    mode = stack.Mode("embedded", "test", {})
    children = [stack.Child(stack.APPS[0], 8000, process), stack.Child(stack.BOOK, 8001, process)]
    console = Console(record=True, width=120)
    console.print(stack.url_table(children, mode))
    rows = [line for line in console.export_text().splitlines() if "http://" in line]
    assert [row.split("│")[2].strip() for row in rows] == [
        "home",
        "API docs",
        "metrics",
        "answer book",
        "metrics",
    ]
    assert "http://127.0.0.1:8001/ " in rows[3]
    assert "http://127.0.0.1:8001/metrics" in rows[4]
