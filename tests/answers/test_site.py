"""The answers site: index, answer pages (tables, Mermaid), charts from results/ only, JSON 404s, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from answers.site import SiteSettings, create_app
from tests.answers.samples import write_book

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    answers_dir, results_dir = write_book(tmp_path)
    (results_dir / "latency.png").write_bytes(PNG)
    (tmp_path / "secret.png").write_bytes(PNG)
    app = create_app(SiteSettings(answers_dir=answers_dir, results_dir=results_dir))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://site.test") as test_client:
        yield test_client


async def test_index_lists_all_twelve_questions_and_links_the_answered_ones(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.count("<li ") == 12
    assert (
        '<a href="/answers/q08-sample.md">How do you implement logging and monitoring?</a>' in response.text
    )
    assert response.text.count("(answer coming)") == 11


async def test_an_answer_page_renders_tables_mermaid_and_bold_figures(client: httpx.AsyncClient) -> None:
    response = await client.get("/answers/q08-sample.md")
    assert response.status_code == 200
    html = response.text
    assert "<table>" in html
    assert "<th>signal</th>" in html
    assert '<pre class="mermaid">flowchart LR\n  client --&gt; api --&gt; db\n</pre>' in html
    assert "<strong>12.5</strong> ms" in html
    assert "fig:" not in html
    assert "<script" not in html


@pytest.mark.parametrize("ref", ["8", "q08", "q08-sample"])
async def test_an_answer_is_reachable_by_number_and_by_name(client: httpx.AsyncClient, ref: str) -> None:
    assert (await client.get(f"/answers/{ref}")).status_code == 200


@pytest.mark.parametrize("path", ["/nope", "/answers/3", "/answers/q08-other.md", "/answers/99"])
async def test_unknown_pages_get_the_json_404_envelope(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["request_id"] == response.headers["x-request-id"]


async def test_charts_are_served_from_results_only(client: httpx.AsyncClient) -> None:
    chart = await client.get("/results/latency.png")
    assert chart.status_code == 200
    assert chart.headers["content-type"] == "image/png"
    assert chart.content == PNG
    for path in (
        "/results/obs.json",
        "/results/..%2Fsecret.png",
        "/results/.hidden.png",
        "/results/none.png",
    ):
        assert (await client.get(path)).status_code == 404, path


async def test_metrics_and_health_come_from_the_observability_stack(client: httpx.AsyncClient) -> None:
    await client.get("/")
    assert (await client.get("/healthz")).status_code == 200
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    samples = [s for family in text_string_to_metric_families(metrics.text) for s in family.samples]
    wanted = {"service": "answers-site", "method": "GET", "route": "/", "status": "200"}
    assert any(s.name == "http_requests_total" and s.labels == wanted and s.value >= 1 for s in samples)
