"""Mermaid's browser script, vendored at build time from the npm registry, so the site never calls a CDN.

The answers' diagrams are Mermaid source; Material for MkDocs draws them with ``window.mermaid`` when the page
defines it and otherwise loads it from unpkg at view time, which an offline reader cannot reach. So the build
takes ``dist/mermaid.min.js`` (a self-contained IIFE) from the pinned npm package: ``npm pack`` fetches the
tarball through the machine's ordinary npm client, we check it against the sha512 integrity pinned here (the
registry's own ``dist.integrity``), and keep the script in a git-ignored cache so later builds are offline.
Major version 11 is the one Material 9.x is written against.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

VERSION = "11.17.2"
# `npm view mermaid@11.17.2 dist.integrity`: the tarball's sha512, base64, as npm records it
INTEGRITY = "sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg=="
SCRIPT_MEMBER = "package/dist/mermaid.min.js"
LICENSE_MEMBER = "package/LICENSE"
NPM_TIMEOUT_S = 180.0
DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / "build" / "mermaid"


class MermaidError(Exception):
    """No script: npm is missing, the registry is unreachable, or the tarball is not the pinned one."""


def integrity_of(path: Path) -> str:
    """The Subresource-Integrity style digest npm uses: ``sha512-<base64>``."""
    digest = hashlib.sha512()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def cached_paths(cache_dir: Path) -> tuple[Path, Path]:
    """(script, licence) inside the cache; the version is in the names so a bump never reuses a stale file."""
    return cache_dir / f"mermaid-{VERSION}.min.js", cache_dir / f"mermaid-{VERSION}.LICENSE"


def _npm_pack(destination: Path, cache_dir: Path) -> Path:
    npm = shutil.which("npm")
    script, _ = cached_paths(cache_dir)
    if npm is None:
        raise MermaidError(
            f"npm is not installed, so Mermaid's script cannot be vendored: install Node.js and npm "
            f"(Debian: apt-get install npm), or put mermaid@{VERSION}'s dist/mermaid.min.js at {script}"
        )
    command = [npm, "pack", f"mermaid@{VERSION}", "--json", "--pack-destination", str(destination)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise MermaidError(
            f"`npm pack mermaid@{VERSION}` did not finish within {NPM_TIMEOUT_S:.0f} s: is the npm registry "
            "reachable?"
        ) from exc
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:]) or f"exit code {done.returncode}"
        raise MermaidError(f"`npm pack mermaid@{VERSION}` failed ({tail}): is the npm registry reachable?")
    try:
        filename = json.loads(done.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError) as exc:
        raise MermaidError(
            f"`npm pack mermaid@{VERSION}` printed no tarball name: {done.stdout[:200]!r}"
        ) from exc
    return destination / str(filename)


def _extract(tarball: Path, member: str, target: Path) -> None:
    with tarfile.open(tarball, "r:gz") as archive:
        try:
            source = archive.extractfile(member)
        except KeyError:
            source = None
        if source is None:
            raise MermaidError(f"{tarball.name} has no {member}; has Mermaid's package layout changed?")
        partial = target.with_name(target.name + ".partial")
        with source, partial.open("wb") as out:
            shutil.copyfileobj(source, out)
        partial.replace(target)  # atomic: a build never sees half a script


def fetch(cache_dir: Path) -> Path:
    """Download, verify and cache the script; returns its cached path."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    script, licence = cached_paths(cache_dir)
    with tempfile.TemporaryDirectory(prefix="mermaid-pack-") as scratch:
        tarball = _npm_pack(Path(scratch), cache_dir)
        found = integrity_of(tarball)
        if found != INTEGRITY:
            raise MermaidError(
                f"mermaid@{VERSION} from the registry has integrity {found}, "
                f"expected {INTEGRITY}: refusing it"
            )
        _extract(tarball, LICENSE_MEMBER, licence)
        _extract(tarball, SCRIPT_MEMBER, script)
    return script


def ensure(cache_dir: Path = DEFAULT_CACHE_DIR) -> tuple[Path, Path]:
    """(script, licence), fetched once and then read from the cache."""
    script, licence = cached_paths(cache_dir)
    if not (script.is_file() and licence.is_file()):
        fetch(cache_dir)
    return script, licence


def install(site_docs: Path, cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Copy the script (and its MIT licence) to ``assets/vendor/mermaid/`` of a docs folder being built."""
    script, licence = ensure(cache_dir)
    target = site_docs / "assets" / "vendor" / "mermaid"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(script, target / "mermaid.min.js")
    shutil.copyfile(licence, target / "LICENSE")
    return target / "mermaid.min.js"
