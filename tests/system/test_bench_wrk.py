"""Reading wrk's report: requests/s, the p99 of its latency distribution in ms, and the errors."""

from __future__ import annotations

import pytest

from gateway.bench_wrk import parse

pytestmark = pytest.mark.unit

WRK_REPORT = """Running 1s test @ http://127.0.0.1:8000/v2/tracks
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  300.00us   9.00ms   90.00%
  Latency Distribution
     50%    1.10ms
     75%    1.30ms
     90%    1.60ms
     99%  850.00us
  3200 requests in 1.00s, 1.10MB read
  Non-2xx or 3xx responses: 12
Requests/sec:   3195.50
Transfer/sec:      1.10MB
"""


def test_a_wrk_report_gives_rate_p99_in_ms_and_errors() -> None:
    run = parse(WRK_REPORT)
    assert (run.rps, run.p99_ms, run.requests, run.non_2xx, run.socket_errors) == (3195.5, 0.85, 3200, 12, 0)
    with pytest.raises(RuntimeError, match="--latency"):
        parse(WRK_REPORT.replace("     99%  850.00us\n", ""))
