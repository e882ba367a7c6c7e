"""Helpers shared by the benchmarks: machine facts, subprocesses that report JSON, medians, data."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "KERAS_BACKEND": "tensorflow",
    "CUDA_VISIBLE_DEVICES": "-1",
}


def cpu_model() -> str:
    """The CPU's model name as /proc/cpuinfo (or platform) reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def versions() -> dict[str, str]:
    """Versions of Python and the packages whose speed is measured."""
    found = {"python": platform.python_version()}
    for name in (
        "tensorflow-cpu",
        "tensorflow",
        "keras",
        "numpy",
        "pandas",
        "pyarrow",
        "duckdb",
        "prefect",
        "dask",
        "distributed",
        "great-expectations",
    ):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    if "tensorflow-cpu" in found:
        found.pop("tensorflow", None)
    return found


def load_average() -> str:
    """The 1/5/15-minute load averages, to tell a quiet machine from a busy one."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def child_env(**extra: str) -> dict[str, str]:
    """The environment for benchmark subprocesses: quiet TensorFlow, no telemetry, this checkout first."""
    env = {**os.environ, **QUIET_ENV, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


@dataclass
class ProcessResult:
    """A finished subprocess: its wall time, peak memory and output."""

    wall: float
    maxrss_mb: float
    tree_peak_mb: float
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        """The last line of stdout that parses as a JSON object."""
        for line in reversed(self.stdout.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"no JSON in output (exit {self.returncode}): {self.stderr[-2000:]}")


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (0 once it is gone)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = [parent] + parent.children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def run_process(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 1800
) -> ProcessResult:
    """Run a command, timing it from start to exit, with its peak memory.

    maxrss_mb is the kernel's peak resident set of the process (or of the largest descendant it
    waited for); tree_peak_mb samples the sum over the whole process tree every 50 ms.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env or child_env(), cwd=cwd or ROOT)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss(proc.pid))
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
            time.sleep(0.02)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ProcessResult(
            wall=wall,
            maxrss_mb=usage.ru_maxrss / 1024,
            tree_peak_mb=peak[0] / 2**20,
            returncode=proc.returncode,
            stdout=out.read(),
            stderr=err.read(),
        )


@dataclass
class SeriesData:
    """One bundled series prepared the nightcast way: training and test windows, scaler, test closes."""

    ticker: str
    train_X: object
    train_y: object
    test_X: object
    test_close: object
    scaler: object


def load_series(ticker: str, time_step: int = 100, train_fraction: float = 0.8) -> SeriesData:
    """nightcast's own ingest, split, scale and window stages on a bundled series (no TensorFlow)."""
    from nightcast import price_fetch
    from nightcast.settings import Settings
    from tasks.training import scale, split, window

    settings = Settings(ticker=ticker, time_step=time_step, train_fraction=train_fraction)
    prices = price_fetch.ingest_prices(settings)
    parts = split.split_series(prices, train_fraction, time_step)
    scaled = scale.scale_split(parts.train["close"].to_numpy(), parts.test["close"].to_numpy())
    train = window.make_windows(scaled.train, time_step)
    test = window.make_test_windows(scaled.train, scaled.test, time_step)
    return SeriesData(
        ticker=ticker,
        train_X=train.X,
        train_y=train.y,
        test_X=test.X,
        test_close=parts.test["close"].to_numpy("float64"),
        scaler=scaled.params,
    )


def test_rmse(model, data: SeriesData) -> float:
    """Test RMSE in price units: predictions inverted with the training scaler, scored by tasks.scoring.evaluate."""
    import numpy as np

    from tasks.scoring.evaluate import score
    from tasks.training.scale import inverse_transform

    scaled = np.asarray(model.predict(data.test_X, batch_size=1024, verbose=0)).reshape(-1)
    return score(data.test_close, inverse_transform(scaled, data.scaler)).rmse
