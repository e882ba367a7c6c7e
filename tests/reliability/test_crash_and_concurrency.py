"""SIGKILL at several points, and concurrent runs: views still read, nothing partial, nothing lost."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from flows.retrain import retrain
from nightcast.schema import TABLES
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, pid_alive
from tests.conftest import random_walk_prices

DRIVER = Path(__file__).with_name("fault_run.py")
ROOT = Path(__file__).resolve().parents[2]


def write_csv(path, prices, n, ticker="ACME"):
    frame = prices(n, ticker=ticker, seed=7).drop(columns=["ticker", "adj_close"]).rename(columns=str.title)
    frame.to_csv(path, index=False)
    return path


def settings_for(tmp_path, csv, ticker="ACME", **extra):
    return {
        "source": "file",
        "path": str(csv),
        "ticker": ticker,
        "time_step": 10,
        "epochs": 3,
        "batch_size": 32,
        "candidates": ["naive", "drift", "simple_rnn-log_return"],
        "warehouse": str(tmp_path / "wh"),
        **extra,
    }


STORED = ("prices", "forecasts", "metrics", "model_events", "decisions", "backtests")


def model_folders(root: Path) -> list[Path]:
    """Every visible candidate model folder, each checked to be whole."""
    folders = [p for p in root.glob("models/ticker=*/*/*") if not p.name.startswith(".")]
    for folder in folders:
        names = {p.name for p in folder.iterdir()}
        assert names in ({"params.json"}, {"model.keras", "scaler.json", "model.json"}), (folder, names)
    return folders


def start(point, settings, tmp_path):
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_HOME": str(tmp_path / "ph"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, str(DRIVER), point, json.dumps(settings)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process, timeout=300):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def snapshot(root: Path, table: str) -> dict[str, bytes]:
    """The visible files of a table (hidden temporary files are checked separately)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted((root / table).rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def every_view_reads(wh):
    for table in TABLES:
        wh.query(f"select * from {table}")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, prefect_harness):
    """One completed run on 140 days, made once: each kill test starts from a copy of its warehouse."""
    root = tmp_path_factory.mktemp("baseline")
    run = retrain(settings=Settings(**settings_for(root, write_csv(root / "a.csv", random_walk_prices, 140))))
    return root / "wh", run.run_id


@pytest.mark.parametrize("point", ["prices_write", "training", "model_save", "forecasts_write"])
def test_sigkill_leaves_a_readable_warehouse_and_a_rerun_completes(tmp_path, prices, point, baseline):
    stored, baseline_run = baseline
    shutil.copytree(stored, tmp_path / "wh")
    wh = Warehouse(tmp_path / "wh")
    before = {t: snapshot(wh.root, t) for t in STORED}
    longer = settings_for(tmp_path, write_csv(tmp_path / "b.csv", prices, 160))
    code, _, err = finish(start(point, longer, tmp_path))
    assert code == -signal.SIGKILL, err[-2000:]

    every_view_reads(wh)
    for table in STORED[point != "prices_write" :]:  # a kill after the price merge keeps the merged prices
        assert snapshot(wh.root, table) == before[table], f"{table} changed after a kill at {point}"
    assert wh.query("select count(*) n from forecasts")["n"][0] == 3 * 5  # the baseline's three paths, whole
    if point.endswith("_write"):
        assert list(wh.root.rglob(".*.tmp")), "a kill mid-write leaves a temporary file for the next run to sweep"
    whole = model_folders(wh.root)  # every visible candidate folder is whole, the killed run's included
    if point == "prices_write":
        assert {p.parent.name for p in whole} == {baseline_run}
    if point == "model_save":
        torn = list(wh.root.glob("models/ticker=ACME/*/.simple_rnn-log_return.*.tmp"))
        assert len(torn) == 1 and torn[0].is_dir() and (torn[0] / "model.keras").is_file(), torn
        assert wh.query("select count(*) n from model_events")["n"][0] == 3  # the registry never saw it

    rerun = retrain(settings=Settings(**longer))
    assert not list(wh.root.rglob(".*.tmp"))
    assert {baseline_run, rerun.run_id} <= {p.parent.name for p in model_folders(wh.root)}
    runs = wh.query("select status, run_id, error from runs order by started_at")
    assert runs["status"].tolist() == ["completed", "abandoned", "completed"]
    assert "killed or crashed" in runs["error"].iloc[1]
    assert runs["run_id"].iloc[2] == rerun.run_id
    assert wh.query("select count(*) n, count(distinct date) d from prices").iloc[0].tolist() == [160, 160]
    assert wh.query("select count(distinct run_id) n from decisions")["n"][0] == 2


def test_concurrent_runs_of_one_ticker_and_of_another_leave_consistent_tables(tmp_path, prices):
    """Three runs at once: two of one ticker (they merge the same prices) and one of another."""
    csv = write_csv(tmp_path / "p.csv", prices, 150)
    tickers = ("AAA", "AAA", "BBB")
    processes = [start("none", settings_for(tmp_path, csv, ticker=t), tmp_path) for t in tickers]
    results = [finish(p) for p in processes]
    assert all(code == 0 for code, _, _ in results), [err[-2000:] for _, _, err in results]
    wh = Warehouse(tmp_path / "wh")
    every_view_reads(wh)
    per_ticker = wh.query("select ticker, count(*) n, count(distinct date) d from prices group by 1 order by 1")
    assert per_ticker.values.tolist() == [["AAA", 150, 150], ["BBB", 150, 150]]
    run_ids = [out.strip().splitlines()[-1] for _, out, _ in results]
    runs = wh.query("select run_id, ticker, status from runs order by run_id")
    assert sorted(runs["run_id"]) == sorted(run_ids) and set(runs["status"]) == {"completed"}
    assert sorted(runs["ticker"]) == sorted(tickers)
    assert wh.query("select count(*) n from forecasts")["n"][0] == 3 * 3 * 5  # each run's three paths, whole
    assert wh.query("select count(distinct run_id) n from decisions")["n"][0] == 3


def children(pid: int) -> set[int]:
    """The process's direct children (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def test_killing_the_nightly_parent_leaves_tables_readable_and_the_next_runs_mark_its_runs_abandoned(tmp_path):
    """SIGKILL the nightly flow's process while its process pool forecasts two tickers, one chunk each."""
    settings = {
        "start": "2010-01-01",
        "end": "2011-06-30",
        "time_step": 10,
        "epochs": 5000,
        "candidates": ["naive", "simple_rnn-log_return"],
        "warehouse": str(tmp_path / "wh"),
    }
    plan = {
        "tickers": ["GOOG", "^GSPC"],
        "runner": {"kind": "processes", "workers": 2, "chunk_tickers": 1},
        "settings": settings,
    }
    parent = start("nightly", plan, tmp_path)
    wh = Warehouse(tmp_path / "wh")
    running = wait_for(
        lambda: (
            (wh.root / "runs").exists()
            and len(found := wh.query("select ticker, pid from runs where status = 'running'")) == 2
            and found
        ),
        parent,
    )
    # both chunks' workers busy: two children that each used 10 s of CPU (TensorFlow's import is ~3 s; the rest is
    # its chunk's work). Read afresh at every poll: the pool starts its workers one by one, beside a resource tracker.
    busy = wait_for(
        lambda: len(hot := {pid for pid in children(parent.pid) if cpu_seconds(pid) >= 10}) >= 2 and hot, parent
    )
    pool = children(parent.pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    assert set(running["pid"]) == {parent.pid}  # the runs are the night's, recorded by its flow
    assert busy <= pool
    wait_for(lambda: not any(pid_alive(pid) for pid in pool), None, timeout=10)  # they watch their parent each second

    every_view_reads(wh)
    assert set(wh.query("select status from runs")["status"]) == {"running"}
    for ticker in ("GOOG", "^GSPC"):
        retrain(settings=Settings(**{**settings, "ticker": ticker, "epochs": 1}))
    runs = wh.query("select ticker, status, error from runs order by started_at")
    assert runs["status"].tolist().count("abandoned") == 2 and runs["status"].tolist().count("completed") == 2
    assert all("killed or crashed" in e for e in runs.loc[runs["status"] == "abandoned", "error"])
    every_view_reads(wh)


def cpu_seconds(pid: int) -> float:
    """CPU time a live process has used (user and system), from /proc; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(condition, process, timeout=240):
    """Poll condition until it returns something truthy; fail if process ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found is not False and found is not None and (not hasattr(found, "empty") or not found.empty):
            return found
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended first: {process.communicate()[1][-2000:]}")
        time.sleep(0.5)
    pytest.fail("timed out")
