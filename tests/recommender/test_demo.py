"""``answers demo 1`` runs the live story end to end and prints its table."""

from __future__ import annotations

import pytest

from recommender import demo

pytestmark = pytest.mark.integration


def test_demo_one_prints_the_story_table(capsys: pytest.CaptureFixture[str]) -> None:
    """Every step of the story shows up, and the cached read is a hit."""
    demo.main()
    out = capsys.readouterr().out
    for step in ("cold start", "known user (cached)", "play the top item", "similar to that item"):
        assert step in out
    assert "hit" in out
