"""A small answer in the required shape, and results it quotes, for tests that need files on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ANSWER = """\
# How do you implement logging and monitoring?

## The 60-second answer

Structured logs, RED metrics and traces, tied together by one request id.
p99 is **12.5** <!-- fig: obs.latency.p99_ms --> ms and the safe run held
**1,234** <!-- fig: obs.runs[mode=safe].rps --> requests/s.

## Deep dive

```mermaid
flowchart LR
  client --> api --> db
```

| signal | tool |
|---|---|
| logs | structlog |
| metrics | prometheus |

## Trade-offs

Cardinality costs memory.

## The numbers

Overhead is **3.1%** <!-- fig: obs.overhead | .1% -->; run `make bench-obs`.

## Common mistakes

Logging secrets.

## Follow-up questions

### Why histograms and not summaries?

Histograms aggregate across instances.

## Run it yourself

```bash
answers demo 8
```
"""

RESULTS: dict[str, Any] = {
    "meta": {"command": "make bench-obs"},
    "latency": {"p99_ms": 12.5},
    "runs": [{"mode": "naive", "rps": 800}, {"mode": "safe", "rps": 1234}],
    "overhead": 0.031,
}


def write_book(root: Path, answer: str = ANSWER, results: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """answers/q08-sample.md and results/obs.json under ``root``; returns (answers_dir, results_dir)."""
    answers_dir, results_dir = root / "answers", root / "results"
    answers_dir.mkdir(parents=True)
    results_dir.mkdir(parents=True)
    (answers_dir / "q08-sample.md").write_text(answer, encoding="utf-8")
    (results_dir / "obs.json").write_text(
        json.dumps(RESULTS if results is None else results), encoding="utf-8"
    )
    return answers_dir, results_dir
