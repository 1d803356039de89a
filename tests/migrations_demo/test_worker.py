"""The deploy-job worker: one JSON line in, one JSON line out, errors reported instead of killing it."""

from __future__ import annotations

import io
import json

import pytest

from migrations_demo import chain
from migrations_demo.worker import Worker, WorkerError, serve


@pytest.mark.unit
def test_the_worker_answers_each_request_and_survives_a_bad_one() -> None:
    requests = io.StringIO('{"op": "no_such_step"}\n{"op": "warm_up"}\n')
    replies = io.StringIO()
    serve(requests, replies)
    bad, good = (json.loads(line) for line in replies.getvalue().splitlines())
    assert bad == {"error": "KeyError: 'no_such_step'"}
    assert good == {"result": len(chain.revisions())}


@pytest.mark.integration
def test_the_worker_process_runs_steps_and_reports_their_errors() -> None:
    worker = Worker()
    try:
        assert worker.call("warm_up") == len(chain.revisions())
        with pytest.raises(WorkerError, match="unexpected keyword"):
            worker.call("warm_up", surprise=1)
        assert worker.call("warm_up") == len(chain.revisions())  # still alive
    finally:
        worker.close()
