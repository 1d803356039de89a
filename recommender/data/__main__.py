"""``python -m recommender.data download [--url URL] [--dest DIR]``: fetch and verify the Last.fm 2K
dataset."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from recommender.data.download import DATA_DIR, LASTFM_URL, ChecksumError, download_lastfm


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recommender.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("download", help="download the HetRec 2011 Last.fm 2K zip and verify SHA-256")
    fetch.add_argument("--url", default=LASTFM_URL, help="http(s):// or file:// URL of the zip")
    fetch.add_argument(
        "--dest", type=Path, default=DATA_DIR, help="folder to extract into (git-ignored data/)"
    )
    args = parser.parse_args(argv)
    try:
        folder = download_lastfm(url=args.url, dest=args.dest)
    except (ChecksumError, OSError, ValueError) as exc:
        print(f"download failed: {exc}", file=sys.stderr)
        return 1
    print(f"Last.fm 2K verified in {folder} (non-commercial licence: never commit these files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
