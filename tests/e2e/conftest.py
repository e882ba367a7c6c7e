"""One real Prefect server, work pool, deployments and worker for the whole e2e folder (`nightcast serve`'s code)."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.deployments import prefect_client
from cli.serve_command import serving
from cli.serve_setup import ServeSetup, child_env, prefect_cli

PROJECT = Path(__file__).resolve().parents[2]
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass
class Stack:
    """The running server and worker, and what the tests need to reach them."""

    plan: ServeSetup
    warehouse: Path

    @property
    def api_url(self) -> str:
        """The API every process of the stack talks to."""
        return self.plan.api

    def deployment(self, name: str):
        """A deployment (flow/deployment) as the server stores it."""
        with prefect_client(self.api_url) as client:
            return client.read_deployment_by_name(name)

    def prefect(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run the prefect command line against this server."""
        return subprocess.run(
            prefect_cli(*args), cwd=PROJECT, env=child_env(self.plan), capture_output=True, text=True, timeout=timeout
        )

    def run_deployment(self, name: str, **params: str) -> str:
        """Start a run of a deployment from the command line (--param key=JSON); return its flow run id."""
        args = [arg for key, value in params.items() for arg in ("--param", f"{key}={value}")]
        done = self.prefect("deployment", "run", name, *args)
        assert done.returncode == 0, done.stdout + done.stderr
        return re.search(r"UUID: ([0-9a-f-]{36})", done.stdout).group(1)

    def wait_final(self, flow_run_id: str, timeout: float = 300):
        """Poll the API until the flow run reaches a final state; fail after timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with prefect_client(self.api_url) as client:
                run = client.read_flow_run(flow_run_id)
            if run.state_type is not None and run.state_type.value in FINAL:
                return run
            time.sleep(1)
        raise AssertionError(f"flow run {flow_run_id} not finished after {timeout} s (state {run.state_name})")


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@contextlib.contextmanager
def chromium(*extra_args: str) -> Iterator:
    """Headless Debian Chromium (never downloaded: `playwright install` is not needed), closed afterwards; the
    test is skipped where it or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        args = [*CHROMIUM_ARGS, *extra_args]
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        try:
            yield browser
        finally:
            browser.close()


PLAYED_CPU = Path(__file__).resolve().parents[1] / "reliability" / "avx512_cpu"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    """Start server, pool, deployments (prefect.yaml) and worker once; always stop worker, then server."""
    root = tmp_path_factory.mktemp("e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(root / "prefect"),
        NIGHTCAST_WAREHOUSE=str(root / "warehouse"),
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
        # every process of the stack plays a CPU whose TensorFlow prints start-up notices (tests/reliability)
        PYTHONPATH=os.pathsep.join(filter(None, [str(PLAYED_CPU), os.environ.get("PYTHONPATH")])),
    )
    (root / "logs").mkdir()
    plan = ServeSetup(project=PROJECT, port=free_port(), env=env, log_dir=root / "logs")
    with serving(plan):
        yield Stack(plan=plan, warehouse=root / "warehouse")
