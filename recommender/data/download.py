"""Fetch the official HetRec 2011 Last.fm 2K zip into the git-ignored ``data/`` folder and verify it.

The dataset is licensed for non-commercial use, so the project never commits it: ``make data`` (``python -m
recommender.data download``) downloads GroupLens' zip, extracts the files we use and checks each against the
SHA-256 sums published with the shared copy. A mismatch deletes what was extracted and fails loudly.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"
LASTFM_URL = "https://files.grouplens.org/datasets/hetrec2011/hetrec2011-lastfm-2k.zip"
LASTFM_DIRNAME = "hetrec2011-lastfm-2k"
LASTFM_SHA256 = {
    "artists.dat": "c173881362c6b28551368fecb3c0be5a6a30a6cd859e1f5775413dfe46d48648",
    "user_artists.dat": "650cd69d5a68db24b439042557aa539aec47e473273e12cdfdca2cd944b3773a",
    "user_friends.dat": "6803aeb1df327cedd660eff82a6ea51bcf434f05f67cfc91ceb2457382ac0d54",
}
# Where the development copy lives (beside the project root); never part of the repository.
SHARED_LASTFM = PROJECT_ROOT.parent / "shared" / "data" / LASTFM_DIRNAME


class ChecksumError(RuntimeError):
    """A downloaded file does not have the published SHA-256."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_lastfm(
    url: str = LASTFM_URL,
    dest: Path = DATA_DIR,
    sums: dict[str, str] | None = None,
    timeout_s: float = 120.0,
) -> Path:
    """Download ``url`` (http(s) or ``file://``), extract the checked files into ``dest/<name>/``, verify.

    Returns the folder holding ``user_artists.dat``. Already present and valid files are not fetched again.
    """
    expected = LASTFM_SHA256 if sums is None else sums
    target = dest / LASTFM_DIRNAME
    if target.is_dir() and all(
        (target / n).is_file() and sha256_of(target / n) == s for n, s in expected.items()
    ):
        return target
    if not url.startswith(("https://", "http://", "file://")):
        raise ValueError(f"refusing to fetch {url!r}: only http(s):// and file:// URLs")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        archive = Path(tmp) / "download.zip"
        with urllib.request.urlopen(url, timeout=timeout_s) as response, archive.open("wb") as out:  # noqa: S310 - scheme checked above # nosec B310
            shutil.copyfileobj(response, out)
        staging = Path(tmp) / LASTFM_DIRNAME
        staging.mkdir()
        with zipfile.ZipFile(archive) as zipped:
            members = {Path(info.filename).name: info for info in zipped.infolist() if not info.is_dir()}
            for name in expected:
                if name not in members:
                    raise ChecksumError(f"{url}: the archive has no {name}")
                # write by basename only: a crafted archive can't escape the staging folder (zip-slip)
                with zipped.open(members[name]) as src, (staging / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst)
        for name, want in expected.items():
            got = sha256_of(staging / name)
            if got != want:
                raise ChecksumError(f"{url}: {name} has SHA-256 {got}, expected {want}")
        if target.exists():
            shutil.rmtree(target)
        staging.replace(target)  # same filesystem: the folder appears complete or not at all
    return target


def find_lastfm() -> Path | None:
    """``user_artists.dat`` from ``data/`` (``make data``) or the shared development copy, else ``None``."""
    for folder in (DATA_DIR / LASTFM_DIRNAME, SHARED_LASTFM):
        candidate = folder / "user_artists.dat"
        if candidate.is_file():
            return candidate
    return None
