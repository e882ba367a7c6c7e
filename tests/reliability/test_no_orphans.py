"""No process outlives a killed command (#24): `nightcast run`, `backfill` and `nightly` (process pool, Dask)
SIGKILLed at several moments leave neither Prefect's temporary server nor a worker behind.

Every process the command starts inherits a marker in its environment, so what is left is found by the
marker in /proc/*/environ: after a SIGKILL the survivors are re-parented to init, out of the killed
command's tree."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from nightcast.schema import TABLES
from nightcast.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
MARK = "NIGHTCAST_ORPHAN_TEST"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and the death signal: Linux")


@pytest.fixture(autouse=True)
def _harness():
    """No Prefect test server: each command starts its own temporary server, the thing under test."""
    yield


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory):
    """One Prefect home for the module: its database is created once (the first server start migrates it)."""
    return tmp_path_factory.mktemp("prefect-home")


def marked(token: str) -> dict[int, str]:
    """Every live process whose environment carries the marker: pid -> command line."""
    found = {}
    needle = f"{MARK}={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return found


def start(tmp_path: Path, prefect_home: Path, *argv: str) -> tuple[subprocess.Popen, str]:
    """The real command line in a process of its own, without any Prefect API set (it starts its own server)."""
    token = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {MARK: token, "PREFECT_HOME": str(prefect_home), "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "-1"}
    env |= {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = (tmp_path / "stderr.log").open("w")
    command = [sys.executable, "-m", "cli", *argv, "--warehouse", str(tmp_path / "wh"), "--quiet"]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log)
    return process, token


def wait_for(condition, process, tmp_path, timeout=240):
    """Poll condition until it returns something truthy; fail if the process ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        if process.poll() is not None:
            pytest.fail(f"the command ended first: {(tmp_path / 'stderr.log').read_text()[-2000:]}")
        time.sleep(0.3)
    pytest.fail(f"timed out; stderr: {(tmp_path / 'stderr.log').read_text()[-2000:]}")


def server_up(token: str) -> bool:
    """Whether the command's temporary Prefect server answers its health check."""
    for cmdline in marked(token).values():
        if "create_app" in cmdline:
            port = cmdline.split("--port ")[1].split()[0]
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200
    return False


def running(tmp_path: Path) -> bool:
    """Whether the night's run is recorded as running and its prices are stored (training comes next)."""
    wh = tmp_path / "wh"
    if not (wh / "runs").exists() or not list((wh / "prices").rglob("*.parquet")):
        return False
    with contextlib.suppress(Exception):  # a file being renamed into place
        return bool(len(Warehouse(wh).query("select 1 from runs where status = 'running'")))
    return False


def workers(process: subprocess.Popen, token: str) -> list[int]:
    """The command's child processes other than the Prefect server (pool or Dask workers)."""
    return [
        pid
        for pid, cmdline in marked(token).items()
        if "create_app" not in cmdline and pid != process.pid and parent(pid) == process.pid
    ]


def parent(pid: int) -> int:
    with contextlib.suppress(OSError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return 0


def kill_and_list_survivors(process: subprocess.Popen, token: str) -> dict[int, str]:
    """SIGKILL the command, then what carries its marker once its children had 15 s to go (none should)."""
    before = marked(token)
    assert len(before) >= 2, before  # the command and at least the server
    print(f"killing {len(before)} processes: {sorted(cmdline[:60] for cmdline in before.values())}")
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    killed = time.monotonic()
    deadline = killed + 15
    while (left := marked(token)) and time.monotonic() < deadline:
        time.sleep(0.2)
    print(f"{len(left)} process(es) left {time.monotonic() - killed:.1f} s after the kill")  # shown with -s
    for pid in left:  # leave nothing behind for the next test, whatever it asserts
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return left


def tables_read(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    for table in TABLES:
        wh.query(f"select count(*) from {table}")


RUN = ["run", "--candidates", "naive,simple_rnn-log_return", "--epochs", "500", "--time-step", "10"]


def test_killed_run_once_its_server_is_up_leaves_nothing(tmp_path, prefect_home):
    process, token = start(tmp_path, prefect_home, *RUN)
    wait_for(lambda: server_up(token), process, tmp_path)
    assert kill_and_list_survivors(process, token) == {}


def test_killed_run_while_it_trains_leaves_nothing_and_the_tables_read(tmp_path, prefect_home):
    process, token = start(tmp_path, prefect_home, *RUN)
    wait_for(lambda: running(tmp_path), process, tmp_path)
    assert kill_and_list_survivors(process, token) == {}
    tables_read(tmp_path)


def test_killed_backfill_while_it_trains_leaves_nothing_and_the_tables_read(tmp_path, prefect_home):
    process, token = start(tmp_path, prefect_home, "backfill", "--days", "3", *RUN[1:])
    wait_for(lambda: running(tmp_path), process, tmp_path)
    assert kill_and_list_survivors(process, token) == {}
    tables_read(tmp_path)


@pytest.mark.parametrize("runner", ["processes", "dask"])
def test_killed_nightly_while_its_workers_train_leaves_nothing(tmp_path, prefect_home, runner):
    nightly = ["nightly", "--runner", runner, "--workers", "2", "--chunk-tickers", "1", *RUN[1:]]
    process, token = start(tmp_path, prefect_home, *nightly)
    wait_for(lambda: len(workers(process, token)) >= 2 and running(tmp_path), process, tmp_path)
    assert kill_and_list_survivors(process, token) == {}
    tables_read(tmp_path)


def test_a_run_that_completes_stops_its_server(tmp_path, prefect_home):
    process, token = start(tmp_path, prefect_home, "run", "--candidates", "naive,drift")
    assert process.wait(timeout=300) == 0, (tmp_path / "stderr.log").read_text()[-2000:]
    assert marked(token) == {}  # stopped at exit, as Prefect stops its own
    assert Warehouse(tmp_path / "wh").query_rows("select status from runs").rows == [("completed",)]
