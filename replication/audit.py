"""The audit: which writes the client was told about survived on the new primary. Pure functions, no I/O.

``lost`` counts *confirmed* writes missing after failover: writes whose guarantee the client was given and
which the system then broke. ``acknowledged_lost`` also counts acknowledged-but-unconfirmed ones (e.g. an
``OK`` whose ``WAIT`` reached no replica), and ``unknown_survived`` shows that "unknown" really means unknown.
Latency percentiles are over acknowledged writes outside the partition: the price of the guarantee while
everything works, the "else latency" of PACELC.

"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keeps `import replication` free of the database drivers
    from replication.workload import WriteRecord

COUNT_KEYS = (
    "attempted",
    "acknowledged",
    "confirmed",
    "lost",
    "refused",
    "unknown",
    "unknown_survived",
    "acknowledged_lost",
)
CUT = "cut"


@dataclass
class TrialResult:
    """One trial: the write log, the ids found on the (new) primary, and replica-read probes if any."""

    records: list[WriteRecord]
    present: set[str]
    lags_ms: list[float] = field(default_factory=list)
    stale_reads: int = 0

    @property
    def reads(self) -> int:
        return len(self.lags_ms)


def tally(records: Sequence[WriteRecord], present: set[str]) -> dict[str, int]:
    """Counts per outcome; every attempted write is exactly one of confirmed, refused, unknown."""
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for record in records:
        counts["attempted"] += 1
        counts["acknowledged"] += record.acknowledged
        counts[record.outcome] += 1
        survived = record.id in present
        if record.confirmed and not survived:
            counts["lost"] += 1
        if record.acknowledged and not survived:
            counts["acknowledged_lost"] += 1
        if record.outcome == "unknown" and survived:
            counts["unknown_survived"] += 1
    return counts


def lost_ids(records: Iterable[WriteRecord], present: set[str]) -> list[str]:
    return [r.id for r in records if r.confirmed and r.id not in present]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return round(ordered[rank - 1], 3)


def steady_latencies(records: Iterable[WriteRecord]) -> list[float]:
    return [r.latency_ms for r in records if r.acknowledged and r.phase != CUT]


def cut_latencies(records: Iterable[WriteRecord]) -> list[float]:
    return [r.latency_ms for r in records if r.phase == CUT]


def summarise(trials: Sequence[TrialResult], *, reads: bool = False) -> dict[str, object]:
    """One experiment's figures: counts summed over trials, latency percentiles over all trials' writes."""
    per_trial = [tally(t.records, t.present) for t in trials]
    summary: dict[str, object] = {key: sum(c[key] for c in per_trial) for key in COUNT_KEYS}
    steady = [ms for t in trials for ms in steady_latencies(t.records)]
    cut = [ms for t in trials for ms in cut_latencies(t.records)]
    summary |= {
        "p50_ms": percentile(steady, 50),
        "p99_ms": percentile(steady, 99),
        "cut_p50_ms": percentile(cut, 50),
    }
    if reads:
        lags = [ms for t in trials for ms in t.lags_ms]
        stale = sum(t.stale_reads for t in trials)
        summary |= {
            "reads": len(lags),
            "stale_reads": stale,
            "stale_rate": round(stale / len(lags), 4) if lags else None,
            "lag_p50_ms": percentile(lags, 50),
            "lag_p99_ms": percentile(lags, 99),
        }
    summary["n_trials"] = len(trials)
    summary["trials"] = [_trial_summary(t, reads=reads) for t in trials]
    return summary


def _trial_summary(trial: TrialResult, *, reads: bool) -> dict[str, object]:
    out: dict[str, object] = dict(tally(trial.records, trial.present))
    out["p99_ms"] = percentile(steady_latencies(trial.records), 99)
    if reads:
        out["stale_reads"] = trial.stale_reads
    return out
