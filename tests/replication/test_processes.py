"""The harness leaves nothing behind: not on success, not on an exception, not when the run is interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from replication import experiments
from replication.config import Config
from replication.pg_cluster import postgres_bindir, start_postgres
from replication.processes import Harness, alive, pause, process_state, processes_under
from replication.redis_cluster import RedisCluster

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("nothing_left_behind")]

ROOT = Path(__file__).resolve().parents[2]


def test_a_failure_inside_the_harness_kills_paused_servers_and_removes_the_folder() -> None:
    with pytest.raises(RuntimeError, match="boom"), Harness() as harness:  # noqa: PT012 - the failure is the point
        cluster = RedisCluster(harness, replicas=1)
        cluster.partition()
        pause(cluster.replicas[0].process)
        datadir = harness.directory("pg", for_postgres=True) / "data"
        harness.run(
            [
                str(postgres_bindir() / "initdb"),
                "-D",
                str(datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
            postgres=True,
        )
        postgres = start_postgres(harness, "pg", datadir, {})
        root, pids = harness.root, [p.pid for p in harness.processes]
        assert process_state(cluster.replicas[0].process.pid) == "T"
        assert len(processes_under(root)) > len(pids), "postgres backends run beside the postmaster"
        assert postgres.scalar("SELECT 1") == 1
        raise RuntimeError("boom")
    assert not root.exists()
    assert not [pid for pid in pids if alive(pid)]
    assert processes_under(root) == []


def test_an_experiment_that_fails_mid_failover_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_promotion(self: RedisCluster) -> None:
        raise RuntimeError("promotion failed")

    monkeypatch.setattr(RedisCluster, "promote_best", broken_promotion)
    with pytest.raises(RuntimeError, match="promotion failed"):
        experiments.run_experiment("async_failover", Config(trials=1, writes=20, cut_writes=5))


SCRIPT = textwrap.dedent("""
    import sys, time
    from replication.processes import Harness, install_signal_cleanup
    from replication.redis_cluster import RedisCluster

    install_signal_cleanup()
    harness = Harness()
    cluster = RedisCluster(harness, replicas=1)
    cluster.partition()
    print(harness.root, flush=True)
    if sys.argv[1] == "exit":
        sys.exit(1)  # no close(): the atexit hook must do it
    time.sleep(60)
""")


@pytest.mark.parametrize("how", ["sigterm", "sigint", "exit"])
def test_an_interrupted_run_cleans_up(how: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, how], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    root = Path(proc.stdout.readline().strip())
    assert root.exists()
    if how != "exit":
        proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGINT)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert not root.exists()
    assert processes_under(root) == []
