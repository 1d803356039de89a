"""How busy the spike server's one core was, per phase: the check on "the CPU is the queue".

A thread samples the server process's CPU time (user + system, from ``/proc/<pid>/stat``: the bench is
Linux-only anyway, it pins with ``taskset``) every ``period_s`` against wall-clock time; ``busy_percent``
then reads the share of one core the process used between two instants, e.g. the steady and spike windows
of the Locust run.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (fields 14 and 15 of ``/proc/<pid>/stat``)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ", so a comm with spaces is harmless
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


class CpuSampler:
    """``with CpuSampler(lambda: pid) as sampler: ...`` then ``sampler.busy_percent(start, end)``.

    The pid is asked for at each sample (None: not started yet), so a process started inside the block, like
    the load generator, is sampled too.
    """

    def __init__(self, pid: Callable[[], int | None], period_s: float = 0.5) -> None:
        self._pid = pid
        self._period_s = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spike-cpu-sampler", daemon=True)
        self.walls: list[float] = []
        self.cpus: list[float] = []

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pid = self._pid()
            if pid is not None:
                try:
                    cpu = cpu_seconds(pid)
                except OSError:  # the process is gone: the run is over
                    return
                self.walls.append(time.time())
                self.cpus.append(cpu)
            self._stop.wait(self._period_s)

    def busy_percent(self, start: float, end: float) -> float | None:
        """Percent of one core used between the samples nearest inside ``[start, end]`` (None if too few)."""
        first = bisect.bisect_left(self.walls, start)
        last = bisect.bisect_right(self.walls, end) - 1
        if last <= first:
            return None
        wall = self.walls[last] - self.walls[first]
        return round(100 * (self.cpus[last] - self.cpus[first]) / wall, 1)
