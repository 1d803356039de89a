"""``make docs``: the answer book as a static MkDocs Material site, built with ``--strict`` into ``site/``.

Nothing is copied into the repository by hand. Each build assembles a temporary docs folder from the sources
(``docs/`` static assets, a generated index, ``answers/q*.md`` adapted by :mod:`answers.pages`, the
``results/`` charts they link, Mermaid's script from :mod:`answers.mermaid`) and runs
``mkdocs build --strict`` with a small config that INHERITs ``mkdocs.yml``. The site works offline: no web
fonts, no CDN. A fingerprint of the inputs is left in the site so ``make demo`` can tell whether to rebuild.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from answers import book, figures, mermaid, pages
from observability.results import RESULTS_DIR

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG = REPO_ROOT / "mkdocs.yml"
STATIC_DIR = REPO_ROOT / "docs"
SITE_DIR = REPO_ROOT / "site"
FINGERPRINT_FILE = ".book-fingerprint"
MKDOCS_TIMEOUT_S = 300.0


class DocsError(Exception):
    """The site cannot be built; the message says why and what to do."""


@dataclass(frozen=True)
class Sources:
    answers_dir: Path = book.ANSWERS_DIR
    results_dir: Path = RESULTS_DIR
    static_dir: Path = STATIC_DIR
    config: Path = CONFIG
    mermaid_cache: Path = mermaid.DEFAULT_CACHE_DIR


@dataclass
class Report:
    site_dir: Path
    answered: list[int]
    pages: list[str] = field(default_factory=list)
    missing_charts: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _input_files(sources: Sources) -> Iterable[Path]:
    yield sources.config
    yield from sorted(p for p in sources.static_dir.rglob("*") if p.is_file())
    yield from book.answer_files(sources.answers_dir)
    yield from sorted(p for p in sources.results_dir.glob("*") if p.is_file())
    here = Path(__file__).parent
    yield from (here / f"{name}.py" for name in ("docs", "pages", "mermaid", "book", "figures", "questions"))


def fingerprint(sources: Sources) -> str:
    """A digest of every input's name and content, and the pinned Mermaid version."""
    digest = hashlib.sha256(f"mermaid {mermaid.VERSION}\n".encode())
    for path in _input_files(sources):
        digest.update(f"{path.name}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def is_current(site_dir: Path, sources: Sources = Sources()) -> bool:
    """True when ``site_dir`` was built from exactly the current inputs."""
    stamp = site_dir / FINGERPRINT_FILE
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == fingerprint(sources)


def assemble(docs_dir: Path, sources: Sources) -> tuple[list[object], Report]:
    """Write the docs folder MkDocs builds from; returns its nav and what went into it."""
    if sources.static_dir.is_dir():
        shutil.copytree(sources.static_dir, docs_dir, dirs_exist_ok=True)
    answered = book.discover(sources.answers_dir)
    report = Report(site_dir=docs_dir, answered=sorted(answered))
    ctx = pages.PageContext(sources.answers_dir, sources.results_dir, sources.answers_dir.resolve().parent)
    (docs_dir / "answers").mkdir(parents=True, exist_ok=True)
    counts = {}
    for number, path in sorted(answered.items()):
        text = path.read_text(encoding="utf-8")
        counts[number] = len(figures.parse_refs(text))
        target = docs_dir / pages.page_path(path)
        target.write_text(pages.answer_page(text, number, path.name, ctx), encoding="utf-8")
        report.pages.append(pages.page_path(path))
    if ctx.problems:
        raise DocsError("the answers link to things the site cannot hold:\n  " + "\n  ".join(ctx.problems))
    (docs_dir / "index.md").write_text(pages.index_page(answered, counts), encoding="utf-8")
    report.pages.insert(0, "index.md")
    results = docs_dir / "results"
    results.mkdir(exist_ok=True)
    for name in sorted(ctx.results_used | {p.name for p in sources.results_dir.glob("*.png")}):
        shutil.copyfile(sources.results_dir / name, results / name)
    report.missing_charts = ctx.missing_charts
    try:
        mermaid.install(docs_dir, sources.mermaid_cache)
    except mermaid.MermaidError as exc:
        raise DocsError(str(exc)) from exc
    return pages.nav(answered), report


def _problems(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    return "\n  ".join(lines or output.strip().splitlines()[-15:])


def _check_target(site_dir: Path) -> None:
    """Refuse to replace a folder that is not a site this module built."""
    if site_dir.is_dir() and any(site_dir.iterdir()) and not (site_dir / FINGERPRINT_FILE).is_file():
        raise DocsError(f"{site_dir} is not empty and was not built by make docs: choose another --site-dir")


def _replace_site(built: Path, site_dir: Path) -> None:
    _check_target(site_dir)
    if site_dir.exists():
        shutil.rmtree(site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(built, site_dir)


def build(site_dir: Path = SITE_DIR, sources: Sources = Sources()) -> Report:
    """Assemble, run ``mkdocs build --strict``, and only on success replace ``site_dir`` with the result."""
    started = time.perf_counter()
    site_dir = site_dir.resolve()
    _check_target(site_dir)
    with tempfile.TemporaryDirectory(prefix="answers-docs-") as scratch:
        docs_dir, built = Path(scratch) / "docs", Path(scratch) / "site"
        docs_dir.mkdir()
        nav, report = assemble(docs_dir, sources)
        config = Path(scratch) / "mkdocs.yml"
        settings = {
            "INHERIT": str(sources.config.resolve()),
            "docs_dir": str(docs_dir),
            "site_dir": str(built),
            "nav": nav,
        }
        config.write_text(json.dumps(settings, indent=2), encoding="utf-8")  # JSON is YAML
        command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=MKDOCS_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise DocsError(f"mkdocs build did not finish within {MKDOCS_TIMEOUT_S:.0f} s") from exc
        if done.returncode != 0:
            raise DocsError(f"mkdocs build --strict failed:\n  {_problems(done.stdout + done.stderr)}")
        (built / FINGERPRINT_FILE).write_text(fingerprint(sources) + "\n", encoding="utf-8")
        _replace_site(built, site_dir)
    report.site_dir = site_dir
    report.seconds = time.perf_counter() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m answers.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path, default=SITE_DIR, help="where to write the site (site/)")
    parser.add_argument(
        "--if-stale", action="store_true", help="build only if an input changed since the last build"
    )
    parser.add_argument(
        "--best-effort", action="store_true", help="on failure print why and exit 0 (make demo goes on)"
    )
    args = parser.parse_args(argv)
    if args.if_stale and is_current(args.site_dir):
        print(f"the answer book in {args.site_dir} is up to date")
        return 0
    try:
        report = build(args.site_dir)
    except DocsError as exc:
        if args.best_effort:
            print(f"note: the answer book was not built, so it is not served: {exc}", file=sys.stderr)
            return 0
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for chart in report.missing_charts:
        print(f"note: {chart} is not generated yet; the page says so instead of showing it")
    print(
        f"built {len(report.pages)} pages ({len(report.answered)} of 12 answers) into {report.site_dir} "
        f"in {report.seconds:.1f} s; open {report.site_dir / 'index.html'} or run make demo"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
