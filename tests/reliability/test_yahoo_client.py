"""The real Yahoo client (yfinance over curl_cffi, no fake), offline, with TensorFlow loaded first, in every kind
of process nightcast fetches in: a plain process, the command line, the nightly's process pool and a Dask
worker (a Prefect worker's flow run: tests/e2e/test_yahoo_worker.py).

Before the fix, a process that had imported TensorFlow failed every request with "Impersonating chrome152 is not
supported" (TensorFlow's own libcurl took curl_cffi's symbols). A working client gets as far as the network: here
HTTPS_PROXY points at a port nobody listens on, so every machine, with or without a network, ends in the same
"cannot connect" error. A local HTTP server on 127.0.0.1 then answers the client for real.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINT = Path(sys.executable).with_name("nightcast")
NOISE = ("Traceback", "yfinance", "Warning", "Impersonat", "Cookie", "Failed to get ticker", "| ERROR")


@pytest.fixture
def dead_port():
    """A loopback port bound and never listening for the whole test: connections to it are refused, and no other
    process (nor the client's own outgoing connection) can take it meanwhile."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


@pytest.fixture
def env(tmp_path, dead_port):
    """A user's environment with a proxy nobody answers (loopback itself is not proxied)."""
    dead = f"http://127.0.0.1:{dead_port}"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PYTEST", "NIGHTCAST_"))}
    base.update(
        HTTPS_PROXY=dead,
        https_proxy=dead,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PREFECT_API_URL=PREFECT_API_URL.value(),
        PREFECT_HOME=str(tmp_path / "ph"),
        NIGHTCAST_WAREHOUSE=str(tmp_path / "wh"),
    )
    return base


def python(args: list[str], env: dict, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def assert_reached_the_network(done: subprocess.CompletedProcess) -> None:
    """The probe's last line: TensorFlow was loaded first and the download ended in a network error."""
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["tensorflow_first"] is True
    assert found["outcome"].startswith("SourceUnavailable: Yahoo Finance, 'NFLX'"), found["outcome"]
    assert "cannot connect to Yahoo: Failed to connect to query2.finance.yahoo.com" in found["outcome"]
    assert "Impersonat" not in found["outcome"]


def test_a_process_that_loaded_tensorflow_first_reaches_the_network(env):
    assert_reached_the_network(python(["-m", "tests.yahoo_probe"], env))


@pytest.mark.parametrize("runner", ["processes", "dask"])
def test_the_nightlys_workers_reach_the_network_after_tensorflow(env, runner):
    assert_reached_the_network(python(["-m", "tests.yahoo_probe", runner], env))


def assert_one_line_naming_the_cause(done: subprocess.CompletedProcess) -> None:
    console = done.stdout + done.stderr
    assert done.returncode == 1, console[-3000:]
    assert console.strip().splitlines() == [line for line in console.splitlines() if line.strip()]
    lines = console.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nightcast: error: ingest failed: Yahoo Finance, 'NFLX'"), console
    assert "cannot connect to Yahoo" in lines[0] and "--source sample" in lines[0]
    assert not [noise for noise in NOISE if noise in console], console


def test_the_command_line_after_tensorflow_ends_in_one_line_naming_the_cause(env, tmp_path):
    code = (  # TensorFlow's own start-up notices of this import go to /dev/null: only the command's lines count
        "import os, sys; saved = os.dup(2); os.dup2(os.open(os.devnull, os.O_WRONLY), 2); import tensorflow; "
        "os.dup2(saved, 2); from cli import main; "
        "sys.exit(main(['run', '--source', 'yahoo', '--ticker', 'NFLX', '--quiet']))"
    )
    assert_one_line_naming_the_cause(python(["-c", code], env, cwd=tmp_path))


def test_nightcast_run_from_yahoo_offline_ends_in_one_line_without_client_noise(env, tmp_path):
    done = subprocess.run(
        [str(ENTRY_POINT), "run", "--source", "yahoo", "--ticker", "NFLX"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert_one_line_naming_the_cause(done)
    assert not (tmp_path / "wh" / "prices").exists()  # nothing stored, nothing started


def test_the_guard_tells_a_broken_client_from_a_working_one(env, dead_port):
    """check_client's verdict matches what a plain curl_cffi session does in a process that loaded TensorFlow
    first and curl_cffi without nightcast's loader (the order that broke it)."""
    code = f"""
import tensorflow
from curl_cffi import requests
try:
    requests.Session(impersonate="chrome").get("http://127.0.0.1:{dead_port}/")
    raw = "answered"
except Exception as error:
    raw = type(error).__name__
from nightcast.yahoo_client import ClientBroken, check_client
try:
    check_client()
    guard = "working"
except ClientBroken:
    guard = "broken"
print(raw, guard)
"""
    done = python(["-c", code], env)
    raw, guard = done.stdout.split()[-2:]
    assert raw in ("ImpersonateError", "ConnectionError"), done.stdout + done.stderr[-2000:]
    assert (raw == "ImpersonateError") == (guard == "broken")


class FakeYahooHandler(BaseHTTPRequestHandler):
    """Answers chart requests as Yahoo does: AAA has prices, BBB is rate limited, anything else is unknown."""

    seen: list[dict] = []

    def do_GET(self):
        type(self).seen.append({name.lower(): value for name, value in self.headers.items()})
        symbol = self.path.split("?")[0].rstrip("/").split("/")[-1]
        status = {"AAA": 200, "BBB": 429}.get(symbol, 404)
        body = json.dumps({"chart": {"result": [{"meta": {"symbol": symbol}}] if status == 200 else None}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_client_impersonates_a_browser_against_a_local_server_and_names_each_answer(env):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeYahooHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v8/finance/chart"
    code = f"""
import json, tensorflow
from nightcast.yahoo_client import new_session
session = new_session()
answers = {{s: session.get("{base}/" + s, timeout=10) for s in ("AAA", "BBB", "ZZZ")}}
causes = {{s: getattr(session.outcomes.failure_for(s), "cause", None) for s in answers}}
print(json.dumps({{"status": {{s: r.status_code for s, r in answers.items()}},
                  "symbol": answers["AAA"].json()["chart"]["result"][0]["meta"]["symbol"], "causes": causes}}))
"""
    try:
        done = python(["-c", code], env)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["status"] == {"AAA": 200, "BBB": 429, "ZZZ": 404} and found["symbol"] == "AAA"
    assert found["causes"] == {"AAA": None, "BBB": "rate_limit", "ZZZ": "unknown_symbol"}
    headers = FakeYahooHandler.seen[0]
    assert "Chrome/" in headers["user-agent"] and "sec-ch-ua" in headers  # chrome's own headers, impersonated
