"""``answers demo 8`` runs in-process and shows what the tools observed."""

from __future__ import annotations

import pytest

from observability import demo


@pytest.mark.integration
def test_the_demo_prints_correlated_logs_red_per_route_and_readiness(
    capsys: pytest.CaptureFixture[str],
) -> None:
    demo.main()
    out = capsys.readouterr().out
    assert "access lines (one each)" in out
    assert "collapsed into 5 route label values" in out  # 4 templates + <unmatched>, whatever the raw paths
    assert "/items/{item_id}" in out
    assert "<unmatched>" in out
    assert '"status": "degraded"' in out
    assert "make bench-observability" in out
