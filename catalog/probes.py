"""Sequential probes that isolate one v2 technique each, against the running service (no Locust needed).

- cache: the same playlists cold (first read: 2 queries) and warm (a hit: no query);
- ETag: a full 200 against a ``304 Not Modified`` for ``If-None-Match``;
- gzip: bytes on the wire with and without ``Accept-Encoding: gzip``;
- serialisation: stdlib ``json.dumps`` against ``orjson.dumps`` on the same 1,000-track playlist document.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import httpx
import orjson


def _timed_get(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    return (time.perf_counter() - started) * 1000, response


def _p50(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def _wire_bytes(response: httpx.Response) -> int:
    return int(response.headers.get("Content-Length", len(response.content)))


def measure(base_url: str, cold: list[str], token: str, repeats: int = 20) -> dict[str, Any]:
    """``cold``: v2 playlist paths nobody has read since the service started."""
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    with httpx.Client(base_url=base_url, timeout=60) as client:
        cold_ms = [_timed_get(client, url, headers)[0] for url in cold]
        warm_ms = [_timed_get(client, url, headers)[0] for url in cold]
        url = cold[0]
        full = [_timed_get(client, url, headers) for _ in range(repeats)]
        etag = full[-1][1].headers["ETag"]
        revalidated = [_timed_get(client, url, {**headers, "If-None-Match": etag}) for _ in range(repeats)]
        if not all(r.status_code == 304 for _ms, r in revalidated):
            raise RuntimeError("a matching ETag must give 304")
        identity = client.get(
            url, headers={"Authorization": headers["Authorization"], "Accept-Encoding": "identity"}
        )
        document = identity.json()
    json_ms = _best_of(lambda: json.dumps(document, separators=(",", ":")), repeats)
    orjson_ms = _best_of(lambda: orjson.dumps(document), repeats)
    return {
        "cache": {"cold_p50_ms": _p50(cold_ms), "warm_p50_ms": _p50(warm_ms)},
        "etag": {
            "full_p50_ms": _p50([ms for ms, _r in full]),
            "not_modified_p50_ms": _p50([ms for ms, _r in revalidated]),
            "full_bytes": _wire_bytes(full[-1][1]),
            "not_modified_bytes": len(revalidated[-1][1].content),
        },
        "gzip": {
            "identity_bytes": _wire_bytes(identity),
            "gzip_bytes": _wire_bytes(full[-1][1]),
            "ratio": round(_wire_bytes(identity) / max(1, _wire_bytes(full[-1][1])), 1),
        },
        "serialisation": {
            "json_ms": json_ms,
            "orjson_ms": orjson_ms,
            "ratio": round(json_ms / max(orjson_ms, 1e-6), 1),
        },
    }


def _best_of(call: Any, repeats: int) -> float:
    """Fastest of ``repeats`` runs, in ms: the least noisy estimate of the work itself."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(min(times), 3)
