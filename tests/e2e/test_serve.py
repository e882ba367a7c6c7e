"""`nightcast serve` itself: its environment, and against an existing API a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from cli.serve_setup import ServeSetup, child_env

pytestmark = pytest.mark.e2e


def children(pid: int) -> list[int]:
    """The live child processes of pid (from Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def test_prefect_state_stays_in_the_project_and_every_child_gets_the_api(tmp_path):
    plan = ServeSetup(project=tmp_path, host="0.0.0.0", port=4300, env={"PREFECT_API_URL": "http://elsewhere/api"})
    assert plan.env["PREFECT_HOME"] == str(tmp_path / ".state" / "prefect") and (tmp_path / ".state/prefect").is_dir()
    env = child_env(plan)
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4300/api" and env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["NIGHTCAST_PROJECT_DIR"] == str(tmp_path)
    mine = ServeSetup(
        project=tmp_path, api_url="https://cloud.example/api", env={"PREFECT_HOME": str(tmp_path / "mine")}
    )
    assert mine.env["PREFECT_HOME"] == str(tmp_path / "mine") and child_env(mine)["PREFECT_API_URL"] == mine.api_url


def test_serve_uses_an_existing_api_and_stops_its_worker_on_sigterm(stack, tmp_path):
    out = tmp_path / "serve.out"
    env = {**stack.plan.env, "PREFECT_API_URL": stack.api_url}
    with open(out, "w") as sink:
        serve = subprocess.Popen(
            [Path(sys.executable).with_name("nightcast"), "serve"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while "worker started" not in out.read_text() and serve.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert f"API {stack.api_url}" in out.read_text(), out.read_text()
        worker = children(serve.pid)
        assert len(worker) == 1  # no server of its own: only the worker
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(60) == 0 and "nightcast serve: stopped" in out.read_text()
        assert not any(Path(f"/proc/{pid}").exists() for pid in worker)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(serve.pid, signal.SIGKILL)
