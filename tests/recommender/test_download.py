"""``python -m recommender.data download`` fetches a zip by URL, extracts the files and checks their
SHA-256."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from recommender.data.__main__ import main
from recommender.data.download import LASTFM_DIRNAME, ChecksumError, download_lastfm

pytestmark = pytest.mark.integration

FILES = {
    "user_artists.dat": b"userID\tartistID\tweight\r\n2\t51\t13883\r\n",
    "artists.dat": b"id\tname\r\n51\tX\r\n",
}


def _zip(tmp_path: Path, files: dict[str, bytes], folder: str = "") -> str:
    archive = tmp_path / "hetrec.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, content in files.items():
            zipped.writestr(folder + name, content)
    return archive.resolve().as_uri()


def _sums(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}


def test_download_extracts_and_verifies_the_archive_from_a_file_url(tmp_path: Path) -> None:
    url = _zip(tmp_path, FILES, folder="hetrec2011-lastfm-2k/")
    folder = download_lastfm(url=url, dest=tmp_path / "data", sums=_sums(FILES))
    assert folder == tmp_path / "data" / LASTFM_DIRNAME
    assert (folder / "user_artists.dat").read_bytes() == FILES["user_artists.dat"]


def test_a_checksum_mismatch_fails_and_leaves_nothing_behind(tmp_path: Path) -> None:
    url = _zip(tmp_path, {**FILES, "artists.dat": b"tampered"})
    with pytest.raises(ChecksumError, match=r"artists\.dat has SHA-256"):
        download_lastfm(url=url, dest=tmp_path / "data", sums=_sums(FILES))
    assert list((tmp_path / "data").iterdir()) == []


def test_an_archive_missing_a_file_is_rejected(tmp_path: Path) -> None:
    url = _zip(tmp_path, {"artists.dat": FILES["artists.dat"]})
    with pytest.raises(ChecksumError, match=r"has no user_artists\.dat"):
        download_lastfm(url=url, dest=tmp_path / "data", sums=_sums(FILES))


def test_the_cli_reports_a_failed_verification_with_exit_code_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against the real published sums, a home-made archive must fail verification."""
    url = _zip(tmp_path, {**FILES, "user_friends.dat": b"1\t2\r\n"})
    assert main(["download", "--url", url, "--dest", str(tmp_path / "data")]) == 1
    assert "download failed" in capsys.readouterr().err
