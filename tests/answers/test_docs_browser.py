"""The built book in headless Chromium: every page loads with no console error, every image and diagram drawn.

Chromium is required, not optional: CI installs Debian's ``chromium``, and without it these tests fail with
the command that installs it. Screenshots of every page are saved under the test's temp folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from answers import book, docs
from answers.browser import Browser, BrowserError, PageReport, chromium, find_chromium
from tests.answers.docs_samples import (
    BROKEN_DIAGRAM,
    answer_with,
    html_pages,
    mermaid_cache,
    serve,
    write_sample_book,
)

pytestmark = pytest.mark.integration

PAGE_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mermaid_cache(tmp_path_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        with chromium() as started:
            yield started
    except BrowserError as exc:
        pytest.fail(str(exc))


def visit_all(browser: Browser, site: Path, shots: Path) -> list[PageReport]:
    with serve(site) as base:
        return [
            browser.visit(
                f"{base}/{page}",
                screenshot=shots / f"{page.strip('/').replace('/', '_') or 'index'}.png",
                timeout=PAGE_TIMEOUT_S,
            )
            for page in html_pages(site)
        ]


def test_every_page_of_the_book_renders_cleanly_in_chromium(
    tmp_path: Path, browser: Browser, cache: Path
) -> None:
    """All pages built from answers/: no console error or failed request, nothing fetched off loopback."""
    site = tmp_path / "site"
    docs.build(site, docs.Sources(mermaid_cache=cache))
    shots = tmp_path / "screenshots"
    reports = visit_all(browser, site, shots)
    answered = book.discover()
    assert len(reports) == len(answered) + 2  # the answers, the index and the 404 page
    assert {r.url: r.problems for r in reports if r.problems} == {}
    answer_reports = [r for r in reports if "/answers/q" in r.url]
    assert len(answer_reports) == len(answered)
    assert all(r.diagrams >= 1 for r in answer_reports), "every answer's Deep dive has a Mermaid diagram"
    for report in reports:
        assert report.screenshot is not None
        assert report.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshots: {shots}")


def test_a_chart_from_results_and_a_diagram_are_drawn(tmp_path: Path, browser: Browser, cache: Path) -> None:
    sources = write_sample_book(tmp_path, cache)
    docs.build(tmp_path / "site", sources)
    with serve(tmp_path / "site") as base:
        report = browser.visit(f"{base}/answers/q08-sample/", timeout=PAGE_TIMEOUT_S)
    assert report.problems == []
    assert (report.images, report.diagrams) == (1, 1)


def test_the_checks_catch_a_broken_diagram_and_a_missing_image(
    tmp_path: Path, browser: Browser, cache: Path
) -> None:
    """The test above is not vacuous: a Mermaid syntax error and a deleted chart are both reported."""
    sources = write_sample_book(tmp_path, cache, answer=answer_with(BROKEN_DIAGRAM))
    docs.build(tmp_path / "site", sources)
    (tmp_path / "site" / "results" / "obs.png").unlink()
    with serve(tmp_path / "site") as base:
        report = browser.visit(f"{base}/answers/q08-sample/", timeout=PAGE_TIMEOUT_S)
    assert report.broken_images == [f"{base}/results/obs.png"]
    assert report.broken_diagrams
    assert any("404" in error for error in report.console_errors)


@pytest.mark.unit
def test_a_missing_chromium_is_an_error_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrowserError, match=r"Chromium is not installed: apt-get install chromium"):
        find_chromium()
