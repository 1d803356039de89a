"""make docs (answers.docs): a strict MkDocs build of the book, offline, with Mermaid vendored from npm."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from answers import docs, mermaid
from tests.answers.docs_samples import answer_with, mermaid_cache, write_sample_book

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mermaid_cache(tmp_path_factory)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> tuple[docs.Sources, Path]:
    root = tmp_path_factory.mktemp("book")
    sources = write_sample_book(root, cache)
    docs.build(root / "site", sources)
    return sources, root / "site"


def test_the_strict_build_writes_the_index_the_answer_and_its_chart(built: tuple[docs.Sources, Path]) -> None:
    _, site = built
    page = (site / "answers" / "q08-sample" / "index.html").read_text(encoding="utf-8")
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="answers/q08-sample/"' in index
    assert index.count('class="q-number"') == 12
    assert '<strong class="fig" title="results: obs.latency.p99_ms">12.5</strong>' in page
    assert '<pre class="mermaid"><code>flowchart LR' in page
    assert 'src="../../results/obs.png"' in page
    assert (site / "results" / "obs.png").is_file()
    assert "<code>pkg/metrics.py</code>" in page


def test_the_site_is_offline_no_web_fonts_and_mermaid_served_locally(
    built: tuple[docs.Sources, Path],
) -> None:
    _, site = built
    script = site / "assets" / "vendor" / "mermaid" / "mermaid.min.js"
    assert script.stat().st_size > 1_000_000
    assert (
        (site / "assets" / "vendor" / "mermaid" / "LICENSE")
        .read_text(encoding="utf-8")
        .startswith("The MIT License")
    )
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in html
        assert "fonts.gstatic" not in html
        assert "assets/vendor/mermaid/mermaid.min.js" in html, page


def test_the_fingerprint_notices_a_changed_answer(built: tuple[docs.Sources, Path], tmp_path: Path) -> None:
    sources, site = built
    assert docs.is_current(site, sources)
    copy = docs.Sources(
        answers_dir=tmp_path,
        results_dir=sources.results_dir,
        mermaid_cache=sources.mermaid_cache,
    )
    (tmp_path / "q08-sample.md").write_text(answer_with() + "\nOne more line.\n", encoding="utf-8")
    assert not docs.is_current(site, copy)


def test_a_link_to_nothing_fails_the_build_and_keeps_the_previous_site(tmp_path: Path, cache: Path) -> None:
    sources = write_sample_book(tmp_path, cache)
    site = tmp_path / "site"
    docs.build(site, sources)
    before = (site / "index.html").read_bytes()
    answer = next(sources.answers_dir.glob("q08-*.md"))
    answer.write_text(answer_with() + "\nSee [the plan](../plan.md).\n", encoding="utf-8")
    with pytest.raises(docs.DocsError, match=r"link to \.\./plan\.md points to nothing"):
        docs.build(site, sources)
    assert (site / "index.html").read_bytes() == before


def test_a_broken_anchor_fails_the_strict_build(tmp_path: Path, cache: Path) -> None:
    sources = write_sample_book(tmp_path, cache, answer=answer_with() + "\nSee [below](#no-such-section).\n")
    with pytest.raises(docs.DocsError, match=r"(?s)mkdocs build --strict failed.*no-such-section"):
        docs.build(tmp_path / "site", sources)


def test_it_refuses_to_replace_a_folder_it_did_not_build(tmp_path: Path, cache: Path) -> None:
    sources = write_sample_book(tmp_path, cache)
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(docs.DocsError, match="was not built by make docs"):
        docs.build(target, sources)
    assert (target / "notes.txt").read_text(encoding="utf-8") == "keep me"


def fake_npm(bin_dir: Path, tarball: bytes) -> Path:
    """An ``npm`` that "packs" the given bytes and logs each call, so no registry is involved."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    payload = bin_dir / "payload.tgz"
    payload.write_bytes(tarball)
    script = bin_dir / "npm"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{bin_dir}/calls"\n'
        'while [ "$1" != "--pack-destination" ]; do shift; done\n'
        f'cp "{payload}" "$2/mermaid-x.tgz"\n'
        "echo '" + json.dumps([{"filename": "mermaid-x.tgz"}]) + "'\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def tarball_with(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


FAKE_PACKAGE = {"package/dist/mermaid.min.js": b"window.mermaid = {};", "package/LICENSE": b"MIT"}


def test_without_npm_the_error_says_how_to_get_the_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(mermaid.MermaidError, match=r"npm is not installed.*apt-get install npm.*mermaid-"):
        mermaid.ensure(tmp_path / "cache")


def test_a_tarball_that_is_not_the_pinned_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = fake_npm(tmp_path / "bin", tarball_with(FAKE_PACKAGE))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(mermaid.MermaidError, match="refusing it"):
        mermaid.ensure(tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*.js"))


def test_the_script_is_fetched_once_then_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tarball = tarball_with(FAKE_PACKAGE)
    bin_dir = fake_npm(tmp_path / "bin", tarball)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(mermaid, "INTEGRITY", mermaid.integrity_of(bin_dir / "payload.tgz"))
    first = mermaid.ensure(tmp_path / "cache")
    second = mermaid.ensure(tmp_path / "cache")
    assert first == second
    assert first[0].read_bytes() == b"window.mermaid = {};"
    calls = (bin_dir / "calls").read_text(encoding="utf-8").splitlines()
    assert len(calls) == 1
    assert calls[0].startswith(f"pack mermaid@{mermaid.VERSION} --json")
