"""The relay's /healthz follows its loop's heartbeat; /metrics serves the Prometheus registry."""

from __future__ import annotations

import time

import httpx
import pytest

from catalog.relay_http import Heartbeat, serve
from tests.support.servers import free_port

pytestmark = pytest.mark.unit


def test_healthz_is_ok_while_the_loop_beats_and_503_once_it_stalls() -> None:
    heartbeat = Heartbeat(stale_s=60)
    server = serve("127.0.0.1", free_port(), heartbeat)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with httpx.Client(base_url=base, trust_env=False, timeout=5) as client:
            assert client.get("/healthz").status_code == 200
            heartbeat.stale_s = 0.05
            time.sleep(0.1)  # no beat for longer than stale_s: the loop looks stuck
            stalled = client.get("/healthz")
            heartbeat.stale_s = 60
            heartbeat.beat()
            again = client.get("/healthz")
            metrics = client.get("/metrics")
            missing = client.get("/other")
    finally:
        server.shutdown()
        server.server_close()
    assert (stalled.status_code, stalled.json()) == (503, {"status": "stuck"})
    assert again.status_code == 200
    assert metrics.status_code == 200
    assert "python_info" in metrics.text  # the default registry, where the relay's counters live too
    assert missing.status_code == 404
