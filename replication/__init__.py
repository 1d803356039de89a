"""Q7: CAP measured on real replication. Redis primary + replicas and a PostgreSQL standby, faults, failover,
audit.

Run ``python -m replication.experiments`` for a table, ``make bench-replication`` for
``results/replication.json``. The registry of experiments lives in ``replication.experiments`` (not imported
here, so ``python -m`` runs it cleanly).

"""

from replication.audit import TrialResult, summarise, tally
from replication.config import QUICK, Config
from replication.processes import Harness

__all__ = ["QUICK", "Config", "Harness", "TrialResult", "summarise", "tally"]
