"""How big an experiment run is: one frozen object shared by the CLI, the bench, the demo and the tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    trials: int = 5
    writes: int = 2000  # acknowledged writes while healthy, per trial
    cut_writes: int = 100  # writes sent to the isolated primary (or while the standby is unreachable)
    cut_seconds: float = 5.0  # min_replicas: the cut writes are spread over this long, past the max lag
    payload_bytes: int = 64
    wait_timeout_ms: int = 100  # WAIT 1 <ms>; Redis checks timeouts at hz=10, so 100 ms is the honest floor
    max_lag_s: int = 1  # min-replicas-max-lag
    sync_cancel_ms: int = 100  # a client cancels a COMMIT that has waited this long for the standby
    reads: int = 1000  # replica_reads probes per trial
    ack_log_dir: Path | None = None  # keep each trial's acknowledgement log (JSON lines) here

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out.pop("ack_log_dir")
        return out


QUICK = Config(trials=1, writes=100, cut_writes=10, cut_seconds=4.0, reads=100)
