"""What a user sees: an expected failure is one error line with no traceback, and TensorFlow stays quiet.

The command runs as a user starts it (the installed entry point, or python -m), with none of the Makefile's
environment (no TF_*, GX_*, PREFECT_* or CUDA_VISIBLE_DEVICES of ours), against the test session's Prefect
server, on a CPU played by avx512_cpu/sitecustomize.py: TensorFlow's import writes the start-up notices an
AVX-512 CPU makes it print whatever its log level, and one real error line that must still be seen.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from nightcast.console import HideExpectedFailures
from nightcast.warehouse import Warehouse
from tasks.prices.validation_report import ValidationFailed
from tests.reliability.test_bad_input import yahoo_layout

ENTRY_POINT = Path(sys.executable).with_name("nightcast")
NOISE = ("Traceback", "absl::InitializeLog", "oneDNN", "cpu_feature_guard", "This TensorFlow binary", "| ERROR")
PLAYED_CPU = Path(__file__).with_name("avx512_cpu")
REAL_TENSORFLOW_ERROR = "stand_in.cc:1] a real TensorFlow error that must be seen"
OURS = ("TF_", "KERAS_", "GX_", "PREFECT_", "PYTEST", "NIGHTCAST_", "CUDA_VISIBLE_DEVICES", "PYTHONPATH")


def nightcast(args: list[str], tmp_path: Path, module: bool = False, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    assert not [k for k in env if k.startswith(("TF_", "GX_", "PREFECT_"))]
    env.update(
        PREFECT_API_URL=PREFECT_API_URL.value(),
        PREFECT_HOME=str(tmp_path / "ph"),
        NIGHTCAST_WAREHOUSE=str(tmp_path / "wh"),
        PYTHONPATH=str(PLAYED_CPU),
        **extra_env,
    )
    command = [sys.executable, "-m", "cli"] if module else [str(ENTRY_POINT)]
    return subprocess.run(command + args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)


def assert_one_clean_error(done: subprocess.CompletedProcess, message: str) -> None:
    console = done.stdout + done.stderr
    assert done.returncode == 1, console[-3000:]
    assert [line for line in console.splitlines() if "error" in line.lower()] == [
        line for line in console.splitlines() if line.startswith("nightcast: error: ")
    ], console[-3000:]
    assert len([line for line in console.splitlines() if line.startswith("nightcast: error: ")]) == 1
    assert message in done.stderr
    assert not [noise for noise in NOISE if noise in console], console[-3000:]


def text_in_close():
    frame = yahoo_layout().astype({"Close": "object"})
    frame.loc[12, "Close"] = "twelve"
    return frame


BAD = {
    "nan_close": (lambda: yahoo_layout(edits={(40, "Close"): None}), "close has 1 null value(s)"),
    "text_in_close": (text_in_close, "column 'close' has 1 non-numeric value(s)"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_price_file_ends_with_one_error_line_and_no_traceback(tmp_path, case):
    make, message = BAD[case]
    make().to_csv(tmp_path / "bad.csv", index=False)
    done = nightcast(
        ["run", "--source", "file", "--path", "bad.csv", "--ticker", "ACME", "--time-step", "10", "--epochs", "1"],
        tmp_path,
        module=case == "text_in_close",
    )
    assert_one_clean_error(done, message)
    assert Warehouse(tmp_path / "wh").query("select count(*) n from prices")["n"][0] == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--epochs", "0"], "epochs: Input should be greater than or equal to 1"),
        (["run", "--ticker", "ZZZZ", "--epochs", "1"], "no bundled sample prices for 'ZZZZ'"),
        (["query", "EXPLAIN ANALYZE COPY prices TO 'x.csv'"], "EXPLAIN ANALYZE runs the statement"),
    ],
    ids=["bad_setting", "unknown_ticker", "refused_query"],
)
def test_bad_settings_sources_and_queries_end_with_one_error_line(tmp_path, args, message):
    assert_one_clean_error(nightcast(args, tmp_path), message)


def test_a_successful_run_prints_no_tensorflow_noise(tmp_path):
    done = nightcast(
        [
            "run",
            "--start",
            "2011-01-01",
            "--end",
            "2012-06-30",
            "--time-step",
            "10",
            "--epochs",
            "1",
            "--candidates",
            "naive,simple_rnn-log_return",
        ],
        tmp_path,
        PLAY_TENSORFLOW_ERROR="1",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not [noise for noise in NOISE if noise in done.stdout + done.stderr], done.stderr[-3000:]
    assert done.stderr.count(REAL_TENSORFLOW_ERROR) == 1  # TensorFlow was imported, and its real lines arrive


def record(error: BaseException) -> logging.LogRecord:
    entry = logging.LogRecord(
        "prefect.task_runs", logging.ERROR, __file__, 1, "failed", None, (type(error), error, None)
    )
    entry.task_run_id = "r1"
    return entry


def test_the_console_filter_hides_expected_failures_but_keeps_bugs():
    console = HideExpectedFailures()
    assert console.filter(record(KeyError("a bug"))) is True  # a bug keeps its traceback
    wrapped = RuntimeError("validate failed")
    wrapped.cause = ValidationFailed.__new__(ValidationFailed)  # a failed stage whose cause is expected
    assert console.filter(record(wrapped)) is False
    finished = logging.LogRecord(
        "prefect.task_runs", logging.ERROR, __file__, 1, "Finished in state Failed('x')", None, None
    )
    finished.task_run_id = "r1"
    assert console.filter(finished) is False  # a task's repeat of the failure its flow reports
    other = logging.LogRecord(
        "prefect.flow_runs", logging.ERROR, __file__, 1, "Finished in state Failed('x')", None, None
    )
    assert console.filter(other) is True  # not a task run's line: kept


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--source", "file", "--path", "missing.csv", "--ticker", "ACME"],
        ["run", "--source", "file", "--path", "garbage.csv", "--ticker", "ACME"],
        ["run", "--ticker", "ZZZZ"],
        ["run", "--epochs", "0"],
        ["backfill", "--days", "0"],
        ["query", "drop table prices"],
        ["nightly", "--source", "yahoo"],
        ["status"],
    ],
    ids=[
        "missing_file",
        "garbage_file",
        "unknown_ticker",
        "bad_setting",
        "bad_days",
        "refused_query",
        "no_tickers",
        "status_without_warehouse",
    ],
)
def test_an_expected_failure_ends_before_tensorflow_or_prefect_is_imported(tmp_path, args):
    """The one error line comes from checks made before the heavy imports (benchmarked: ~1 s)."""
    (tmp_path / "garbage.csv").write_bytes(b"garbage\x00\x01")
    code = (
        "import sys; from cli import main; code = main(sys.argv[1:]); "
        "print(sorted(m for m in ('tensorflow', 'prefect', 'great_expectations') if m in sys.modules)); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and done.stdout == "[]\n", (done.stdout, done.stderr)
    assert done.stderr.startswith("nightcast: error: ") and done.stderr.count("\n") == 1


def test_a_bug_keeps_its_traceback_end_to_end(tmp_path):
    """A planted bug (not bad data) in one ticker's forecast: the console shows its traceback, then the one line."""
    code = (
        "import sys, tasks.forecasting.forecasters as f\n"
        "def planted(*args, **kwargs):\n    raise ZeroDivisionError('the planted bug')\n"
        "f.forecast = planted\n"
        "from cli import main\nsys.exit(main(sys.argv[1:]))\n"
    )
    (tmp_path / "planted.py").write_text(code)
    env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    env.update(PREFECT_API_URL=PREFECT_API_URL.value(), PREFECT_HOME=str(tmp_path / "ph"))
    args = ["run", "--candidates", "naive,drift", "--warehouse", str(tmp_path / "wh"), "--quiet"]
    done = subprocess.run(
        [sys.executable, str(tmp_path / "planted.py"), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback (most recent call last)" in done.stderr and "ZeroDivisionError: the planted bug" in done.stderr
    assert "in planted" in done.stderr  # the frame where the bug is
    assert done.stderr.strip().splitlines()[-1].startswith("nightcast: error: ")


def test_a_night_on_the_bundled_prices_needs_no_network(tmp_path):
    """Every HTTP client's proxy points at a listener on 127.0.0.1 that counts connections; a night on the bundled
    prices completes and nothing tried to reach beyond this machine (Prefect's own server is local)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    attempts: list[str] = []

    def count() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            attempts.append(connection.recv(200).decode("latin-1").split("\r\n")[0])
            connection.close()

    threading.Thread(target=count, daemon=True).start()
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    proxies = {name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")}
    done = nightcast(
        ["run", "--candidates", "naive,drift", "--quiet"],
        tmp_path,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        **proxies,
    )
    listener.close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "completed: GOOG as of" in done.stdout and attempts == []
