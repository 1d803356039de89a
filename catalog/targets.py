"""What the load test requests: per endpoint and version, a list of ``[path, token]`` pairs, as JSON.

The same logical requests for v1 and v2: the same 1,000-track playlists, the same deep pages (v1 by
``OFFSET``, v2 by the cursor of the row just before that offset, computed once here with a window function),
the same artists and the same users' libraries. Tokens are signed with the key the service under test trusts.
``python -m catalog.targets --out targets.json`` writes the file for a schema seeded by ``catalog.seed``; set
``CATALOG_JWT_PRIVATE_KEY_FILE`` to a PEM the service trusts (its public half in ``CATALOG_JWT_PUBLIC_KEY``).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from psycopg import sql

from catalog.cursor import CursorCodec
from catalog.rows import SeedSpec
from catalog.schemas import micros
from catalog.settings import CatalogSettings
from catalog.tokens import SigningKey, TokenIssuer
from observability.pg import libpq_url

ENDPOINTS = ("playlist", "deep_page", "artist_tracks", "library")
PAGE = 50
TOKEN_TTL_S = 4 * 3600
Targets = dict[str, dict[str, list[list[str]]]]


def deep_offsets(spec: SeedSpec, count: int, rng: random.Random) -> list[int]:
    """Offsets at or past 500,000 when the catalogue is that big (half way through it otherwise)."""
    low = 500_000 if spec.tracks >= 500_000 + PAGE * (count + 1) else spec.tracks // 2
    high = min(spec.tracks - PAGE, low + 200_000)
    return sorted(rng.sample(range(low, max(high, low + count)), count))


def build_targets(
    database_url: str,
    schema: str,
    spec: SeedSpec,
    *,
    issuer: TokenIssuer,
    codec: CursorCodec,
    count: int = 100,
) -> Targets:
    rng = random.Random(spec.seed)
    offsets = deep_offsets(spec, count, rng)
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        heroes = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM playlists WHERE id %% %s = 0 AND is_public ORDER BY id LIMIT %s",
                (spec.hero_every, count),
            )
        ]
        artists = [
            r[0]
            for r in conn.execute(
                "SELECT artist_id FROM tracks GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s", (count,)
            )
        ]
        # the sort key of the row just before each offset: the cursor a client paging there would hold
        keys = conn.execute(
            "SELECT rn, released_at, id FROM (SELECT released_at, id, row_number() OVER "
            "(ORDER BY released_at DESC, id DESC) AS rn FROM tracks) AS ranked "
            "WHERE rn = ANY(%s) ORDER BY rn",
            (list(offsets),),
        ).fetchall()
    cursors = {
        int(rn): codec.encode("tracks", (micros(released), int(track_id))) for rn, released, track_id in keys
    }
    readers = [issuer.issue(u, ttl_s=TOKEN_TTL_S) for u in range(1, min(spec.users, 50) + 1)]
    hero_users = list(range(spec.hero_every, spec.users + 1, spec.hero_every))[:count]
    targets: Targets = {name: {"v1": [], "v2": []} for name in ENDPOINTS}
    for i, playlist in enumerate(heroes):
        for version in ("v1", "v2"):
            targets["playlist"][version].append(
                [f"/{version}/playlists/{playlist}", readers[i % len(readers)]]
            )
    for i, offset in enumerate(offsets):
        token = readers[i % len(readers)]
        targets["deep_page"]["v1"].append([f"/v1/tracks?limit={PAGE}&offset={offset}", token])
        targets["deep_page"]["v2"].append([f"/v2/tracks?limit={PAGE}&cursor={cursors[offset]}", token])
    for i, artist in enumerate(artists):
        for version in ("v1", "v2"):
            path = f"/{version}/artists/{artist}/tracks?limit={PAGE}"
            targets["artist_tracks"][version].append([path, readers[i % len(readers)]])
    for user in hero_users:
        token = issuer.issue(user, ttl_s=TOKEN_TTL_S)
        for version in ("v1", "v2"):
            targets["library"][version].append([f"/{version}/me/library?limit={PAGE}", token])
    return targets


def _load_key(path: Path) -> SigningKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise SystemExit("the key must be an Ed25519 or RSA private key")
    return SigningKey(key)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m catalog.targets", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True, help="PEM private key the service trusts")
    parser.add_argument("--tracks", type=int, default=SeedSpec.tracks)
    parser.add_argument("--playlists", type=int, default=SeedSpec.playlists)
    parser.add_argument("--users", type=int, default=SeedSpec.users)
    args = parser.parse_args(argv)
    settings = CatalogSettings()
    spec = SeedSpec(tracks=args.tracks, playlists=args.playlists, users=args.users)
    issuer = TokenIssuer(_load_key(args.key), issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    secret = settings.cursor_secret.get_secret_value().encode() if settings.cursor_secret else None
    if secret is None:
        raise SystemExit("set CATALOG_CURSOR_SECRET to the service's, so v2 cursors verify")
    targets: dict[str, Any] = build_targets(
        settings.database_url, settings.schema_name, spec, issuer=issuer, codec=CursorCodec(secret)
    )
    args.out.write_text(json.dumps(targets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
