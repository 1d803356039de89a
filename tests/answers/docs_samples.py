"""A small book on disk for the docs-site tests: answers with a diagram and a chart, a static file server."""

from __future__ import annotations

import functools
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from answers import docs, mermaid
from tests.answers.samples import ANSWER, RESULTS, write_book

GOOD_DIAGRAM = "flowchart LR\n  client --> api --> db"
BROKEN_DIAGRAM = "flowchart LR\n  client -->> --> ]]"

CHART_PARAGRAPH = (
    "The chart, from `make bench-obs`:\n\n![Latency per second](../results/obs.png)\n\n"
    "Code lives in [the metrics module](../pkg/metrics.py) and [`pkg/`](../pkg/).\n\n"
)


def answer_with(diagram: str = GOOD_DIAGRAM, chart: bool = True) -> str:
    text = ANSWER.replace("flowchart LR\n  client --> api --> db", diagram)
    return text.replace("## Trade-offs", CHART_PARAGRAPH + "## Trade-offs") if chart else text


def png(width: int, height: int) -> bytes:
    """A valid grey RGB PNG, written by hand so the tests need no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def write_sample_book(
    root: Path,
    cache: Path,
    *,
    answer: str | None = None,
    chart: bool = True,
    results: dict[str, Any] | None = None,
) -> docs.Sources:
    """answers/q08-sample.md, results/obs.json (+ .png), pkg/metrics.py under ``root``; Sources to build."""
    answers_dir, results_dir = write_book(
        root, answer if answer is not None else answer_with(), results or RESULTS
    )
    if chart:
        (results_dir / "obs.png").write_bytes(png(64, 32))
    (root / "pkg").mkdir()
    (root / "pkg" / "metrics.py").write_text("COUNT = 1\n", encoding="utf-8")
    return docs.Sources(answers_dir=answers_dir, results_dir=results_dir, mermaid_cache=cache)


def mermaid_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's cache when ``make docs`` filled it (read only), else a session temp folder."""
    if all(path.is_file() for path in mermaid.cached_paths(mermaid.DEFAULT_CACHE_DIR)):
        return mermaid.DEFAULT_CACHE_DIR
    return tmp_path_factory.mktemp("mermaid-cache")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's parameter name
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """A static file server for ``directory`` on a free loopback port; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def html_pages(site: Path) -> list[str]:
    """Every HTML page of a built site as a URL path (``answers/q08-sample/``, ``404.html``)."""
    out = []
    for path in sorted(site.rglob("*.html")):
        relative = path.relative_to(site).as_posix()
        out.append(relative.removesuffix("index.html"))
    return out
