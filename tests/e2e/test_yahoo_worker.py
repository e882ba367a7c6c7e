"""The real Yahoo client in a flow run started by the Prefect worker of `nightcast serve`, after TensorFlow was
loaded in that process: it reaches the network (a proxy nobody answers), never a client-side error."""

from __future__ import annotations

import json
import socket
import time

import pytest
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.client.schemas.objects import StateType

from cli.deployments import deploy, prefect_client
from nightcast.quiet_import import is_notice

pytestmark = pytest.mark.e2e


def probe_line(stack, flow_run_id, wait: float = 60.0) -> str:
    """The flow run's 'yahoo probe: ...' log line (the worker's process sends its logs in batches)."""
    deadline = time.monotonic() + wait
    while True:
        with prefect_client(stack.api_url) as client:
            logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        found = [log.message for log in logs if log.message.startswith("yahoo probe: ")]
        if found or time.monotonic() > deadline:
            assert found, [log.message for log in logs]
            return found[0]
        time.sleep(1)


def test_a_worker_flow_run_that_loaded_tensorflow_first_reaches_the_network(stack):
    deploy(stack.plan, "tests/e2e/yahoo_probe.yaml")
    # the port stays bound (never listening) for the whole run: a connection to it is refused, and no other
    # process, nor the client's own outgoing connection, can take it meanwhile
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
        flow_run_id = stack.run_deployment("yahoo-probe/yahoo-probe", proxy=json.dumps(dead))
        run = stack.wait_final(flow_run_id)
    assert run.state_type == StateType.COMPLETED, run.state.message
    found = json.loads(probe_line(stack, run.id).removeprefix("yahoo probe: "))
    assert found["tensorflow_first"] is True
    assert found["outcome"].startswith("SourceUnavailable: Yahoo Finance, 'NFLX'"), found["outcome"]
    assert "cannot connect to Yahoo" in found["outcome"] and "Impersonat" not in found["outcome"]
    # the worker's flow run loaded TensorFlow on a CPU that prints start-up notices: none reached its output
    output = (stack.plan.log_dir / "worker.log").read_bytes().splitlines()
    assert output and not [line for line in output if is_notice(line)]
