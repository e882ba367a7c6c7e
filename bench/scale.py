"""The warehouse at S&P 500 scale: 500 tickers x N nights, then queries and one ticker's nightly overhead.

For each size, every table a nightly writes (prices, forecasts, latest_forecasts, metrics, runs,
validations, model_events, decisions) is generated for all tickers in the layout the nightly write path
leaves (one file per ticker and table; latest_forecasts one file for all); the last LIVE_NIGHTS nights
of LIVE_TICKERS tickers then go through the real write path (Warehouse.write_run_table, merge_prices,
replace_latest) night by night, with every read the nightly makes. Generating all 500 tickers' last
nights through the write path would only rewrite the same one file per ticker 20 times (about 20 minutes
per size here); the files it leaves are the ones generated.

Measured: files and bytes; `nightcast query` end to end (a new process, as a user runs it) for the latest
forecast per ticker, one ticker's forecast history and forecast_accuracy of one ticker, and for three
questions over every ticker (the leaderboard at horizon 1, the ten worst tickers by forecast_accuracy, a
count of every served forecast), beside the count in plain DuckDB over the same files; and a night's
warehouse overhead for one ticker: every read and write the nightly makes except training and validation.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from bench.common import child_env, run_process
from nightcast import catalog
from nightcast.arrow_tables import to_arrow
from nightcast.run_tables import RECENT_RUNS
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse

TICKERS = 500
SIZES = (20, 250, 1260)
LIVE_NIGHTS = 20
LIVE_TICKERS = 5
CANDIDATES = ("naive", "drift", "ets", "arima", "simple_rnn-log_return")
HORIZON = 5
HISTORY = 300
"""Closes before the first night."""
QUERIES = {
    "latest": "select ticker, as_of, target_date, forecast from latest_forecasts order by ticker, horizon",
    "history": "select as_of, horizon, forecast from forecasts where ticker = 'T0123' and served order by as_of",
    "accuracy": "select * from forecast_accuracy where ticker = 'T0123' order by candidate, horizon",
    "leaderboard": "select * from leaderboard where horizon = 1 order by ticker, rank",
    "worst": "select ticker, avg(mase) as mase from forecast_accuracy group by ticker order by 2 desc, 1 limit 10",
    "served": "select count(*) as n from forecasts where served",
}
"""Per ticker (latest opens one file), then over every ticker (goal: each <= 1 s at 1,260 nights, issue 22)."""
ALL_TICKERS = ("leaderboard", "worst", "served")


def dates(nights: int) -> pd.DatetimeIndex:
    """Business days: the history, the nights, and the horizon after the last night."""
    return pd.bdate_range("2015-01-02", periods=HISTORY + nights + HORIZON)


def night_tables(
    ticker: str,
    run_ids: np.ndarray,
    at: np.ndarray,
    days: pd.DatetimeIndex,
    closes: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, pd.DataFrame]:
    """The rows of every table a nightly writes, for the nights whose as_of is days[at] (one run id each),
    shaped as the nightly writes them; vectorized over the nights."""
    nights, k, now = len(at), len(CANDIDATES) * HORIZON, pd.Timestamp.now(tz="UTC")

    def per_night(values: np.ndarray, rows: int) -> np.ndarray:
        return np.repeat(values, rows)

    horizon = np.tile(np.arange(1, HORIZON + 1), len(CANDIDATES) * nights)
    close = per_night(closes[at], k)
    forecast = close * (1 + rng.normal(0, 0.01, nights * k))
    candidate = np.tile(np.repeat(CANDIDATES, HORIZON), nights)
    run = per_night(run_ids, k)
    paths = pd.DataFrame(
        {
            "run_id": run,
            "ticker": ticker,
            "as_of": per_night(days[at], k),
            "target_date": days[per_night(at, k) + horizon],
            "horizon": horizon,
            "forecast": forecast,
            "candidate": candidate,
            "served": candidate == "naive",
            "scale": close * 0.01,
            "model_version": np.char.add(np.char.add(candidate.astype(str), "-"), run.astype(str)),
            "lower_80": forecast * 0.98,
            "upper_80": forecast * 1.02,
            "lower_95": forecast * 0.97,
            "upper_95": forecast * 1.03,
        }
    )
    scores = paths[["run_id", "ticker", "as_of", "candidate", "horizon"]].assign(
        n=100, mae=rng.random(nights * k), mase=1.0, naive_mase=1.0, created_at=now
    )
    c = len(CANDIDATES)
    events = pd.DataFrame(
        {
            "model_version": paths["model_version"].to_numpy()[::HORIZON],
            "ticker": ticker,
            "run_id": per_night(run_ids, c),
            "candidate": np.tile(CANDIDATES, nights),
            "data_end": per_night(days[at], c),
            "full_as_of": per_night(days[at], c),
            "training": "fit",
            "status": np.tile(["served"] + ["shadow"] * (c - 1), nights),
            "trained_at": now,
            "decided_at": now,
        }
    )
    events["path"] = "models/ticker=" + ticker + "/" + events["run_id"] + "/" + events["candidate"]
    checks = pd.DataFrame(
        {
            "run_id": per_night(run_ids, 16),
            "ticker": ticker,
            "success": True,
            "checked_at": now,
            "expectation": np.tile([f"expect_{i}" for i in range(16)], nights),
            "observed": "ok",
        }
    )
    decisions = pd.DataFrame(
        {
            "run_id": run_ids,
            "ticker": ticker,
            "as_of": days[at],
            "champion": "naive",
            "action": "kept",
            "n": 500,
            "decided_at": now,
        }
    )
    runs = pd.DataFrame(
        {
            "run_id": run_ids,
            "ticker": ticker,
            "status": "completed",
            "started_at": now,
            "finished_at": now,
            "host": "bench",
            "pid": 1,
        }
    )
    return {
        "forecasts": paths,
        "metrics": scores,
        "model_events": events,
        "validations": checks,
        "decisions": decisions,
        "runs": runs,
    }


def generate(root: Path, nights: int, seed: int = 0) -> dict[str, list[pd.Timestamp]]:
    """Every ticker's nights straight into the one-file layout, but the last LIVE_NIGHTS of the first
    LIVE_TICKERS tickers; returns those nights, left for the real write path."""
    rng = np.random.default_rng(seed)
    days = dates(nights)
    first = HISTORY - 1
    live: dict[str, list[pd.Timestamp]] = {}
    latest = []
    for i in range(TICKERS):
        ticker = f"T{i:04d}"
        count = nights - LIVE_NIGHTS if i < LIVE_TICKERS else nights
        at = np.arange(first, first + count)
        closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
        run_ids = np.array([f"{days[a]:%Y%m%d}T213000Z-{i:06d}" for a in at], dtype=object)
        tables = night_tables(ticker, run_ids, at, days, closes, rng) if count else {}
        stored = first + count  # closes up to the last generated night
        prices = pd.DataFrame({"ticker": ticker, "date": days[:stored], "close": closes[:stored], "source": "bench"})
        tables["prices"] = prices.assign(
            open=prices["close"],
            high=prices["close"],
            low=prices["close"],
            volume=1.0,
            ingested_at=pd.Timestamp.now(tz="UTC"),
        )
        if count:
            last = tables["forecasts"][tables["forecasts"]["as_of"] == days[at[-1]]]
            latest.append(last[last["served"]])
        for name, frame in tables.items():
            folder = root / name / f"ticker={ticker}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(to_arrow(name, frame), folder / f"{name}.parquet")
        if i < LIVE_TICKERS:
            live[ticker] = list(days[first + count : first + nights])
    shared = Warehouse(root).shared_file("latest_forecasts")
    shared.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_arrow("latest_forecasts", pd.concat(latest, ignore_index=True)), shared)
    return live


def nightly_io(wh: Warehouse, ticker: str, as_of: pd.Timestamp, k: int, rng: np.random.Generator) -> float:
    """One night's warehouse reads and writes for one ticker, as the retrain flow makes them; seconds."""
    from flows.records import recover_warehouse
    from nightcast import upkeep

    started = time.perf_counter()
    run_id = f"{as_of:%Y%m%d}T213000Z-live{k:02d}"
    tables = night_tables(
        ticker,
        np.array([run_id], dtype=object),
        np.array([0]),
        pd.bdate_range(as_of, periods=HORIZON + 1),
        np.array([100.0]),
        rng,
    )
    recover_warehouse.fn(wh, ticker)
    wh.write_run_table("runs", ticker, run_id, tables["runs"].assign(status="running"))
    wh.write_run_table("validations", ticker, run_id, tables["validations"])
    day = pd.DataFrame(
        [
            {
                "ticker": ticker,
                "date": as_of,
                "open": 1.0,
                "high": 1.0,
                "low": 1.0,
                "close": 100.0,
                "adj_close": None,
                "volume": 1.0,
            }
        ]
    )
    catalog.stored_prices(wh, [ticker])
    catalog.recorded_revisions(wh, [ticker])
    wh.merge_prices(day, ticker, "bench", pd.Timestamp.now(tz="UTC"))
    catalog.stored_prices(wh, [ticker], as_of.date())
    night = {ticker: as_of.date()}
    catalog.stored_forecasts(wh, night, Settings().evidence_window)
    catalog.backtested(wh, [ticker])
    catalog.latest_versions(wh, night)
    catalog.current_champions(wh, night)
    for name in ("forecasts", "metrics", "model_events", "decisions"):
        wh.write_run_table(name, ticker, run_id, tables[name])
    wh.replace_latest(tables["forecasts"][tables["forecasts"]["served"]])
    wh.write_bytes(wh.plot_path(ticker, run_id), b"\x89PNG bench")
    upkeep.prune_ticker(wh, ticker, 30)
    wh.write_run_table("runs", ticker, run_id, tables["runs"])
    return time.perf_counter() - started


def fold_night(wh: Warehouse, ticker: str) -> float:
    """What a fold adds to the night that makes it (every RECENT_RUNS + 1 nights): folding the ticker's recent
    runs of every table a night writes into its big files; seconds."""
    started = time.perf_counter()
    for name in ("runs", "validations", "forecasts", "metrics", "model_events", "decisions"):
        wh.fold(name, ticker)
    return time.perf_counter() - started


def cli_query(root: Path, sql: str) -> float:
    """`nightcast query` from process start to exit, best of three."""
    args = [sys.executable, "-m", "cli", "query", sql, "--format", "csv", "--warehouse", str(root)]
    walls = []
    for _ in range(3):
        result = run_process(args, env=child_env())
        if result.returncode != 0:
            raise RuntimeError(result.stderr.strip().splitlines()[-1])
        walls.append(result.wall)
    return min(walls)


def plain_count(root: Path) -> float:
    """The served count in plain DuckDB over the same files (local file system, no views, no process start):
    the floor a `served` query is compared with; best of three."""
    import duckdb

    con = duckdb.connect()
    sql = f"select count(*) from read_parquet('{root}/forecasts/*/*.parquet') where served"
    walls = []
    for _ in range(3):
        started = time.perf_counter()
        con.execute(sql).fetchall()
        walls.append(time.perf_counter() - started)
    return min(walls)


def measure_at(root: Path, nights: int, overheads: list[float], wh: Warehouse, live: dict) -> dict:
    """Files, bytes, a fold night and the queries of one generated warehouse whose live nights were replayed."""
    fold_s = fold_night(wh, list(live)[-1])
    files = [p for p in root.rglob("*") if p.is_file()]
    return {
        "nights": nights,
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "overhead_s": statistics.median(overheads),
        "fold_s": fold_s,
        "mean_s": statistics.median(overheads) + fold_s / (RECENT_RUNS + 1),
        **{name: cli_query(root, sql) for name, sql in QUERIES.items()},
        "plain_served": plain_count(root),
    }


def measure(log, sizes: tuple[int, ...] = SIZES) -> list[dict]:
    """Generate a warehouse of each size, then replay the live nights at every size in turn (night k of a
    ticker at 20 nights, then at 250, then at 1,260, ...), so that the machine's slow and fast moments fall
    on every size alike and the sizes' overheads compare; then measure each warehouse."""
    with tempfile.TemporaryDirectory(prefix="nightcast-scale-") as tmp:
        roots = {n: Path(tmp) / f"warehouse-{n}" for n in sizes}
        lives = {}
        for n in sizes:
            started = time.perf_counter()
            lives[n] = generate(roots[n], n)
            log(f"scale {n} nights: generated in {time.perf_counter() - started:.0f} s")
        os.sync()  # measure warehouses at rest, not the kernel writing back the generators' gigabytes
        log("scale: live nights, every size in turn")
        whs, rng = {n: Warehouse(roots[n]) for n in sizes}, np.random.default_rng(1)
        overheads: dict[int, list[float]] = {n: [] for n in sizes}
        for ticker in lives[sizes[0]]:
            for k in range(LIVE_NIGHTS):
                for n in sizes:
                    overheads[n].append(nightly_io(whs[n], ticker, lives[n][ticker][k], k, rng))
        return [measure_at(roots[n], n, overheads[n], whs[n], lives[n]) for n in sizes]


def query_lines(results: list[dict]) -> list[str]:
    """One line per query of the largest warehouse: `query <name> (<scope>): <s> s`, the all-ticker ones with
    their goal, then plain DuckDB's count over the same files."""
    big = results[-1]
    lines = [
        f"query {name} ({'all tickers, goal <= 1 s' if name in ALL_TICKERS else 'per ticker'}): {big[name]:.2f} s"
        for name in QUERIES
    ]
    return lines + [f"query served in plain DuckDB over the same files (no process start): {big['plain_served']:.2f} s"]


def last_line(results: list[dict]) -> str:
    """`scale: 1260 nights, <files> files, latest <s> s, history <s> s, accuracy <s> s, leaderboard <s> s,
    worst <s> s, served <s> s, overhead <s> s (20 nights: <s> s)`, on one line."""
    big, small = results[-1], results[0]
    queries = ", ".join(f"{name} {big[name]:.2f} s" for name in QUERIES)
    return (
        f"scale: {big['nights']} nights, {big['files']} files, {queries}, overhead {big['overhead_s']:.2f} s "
        f"({small['nights']} nights: {small['overhead_s']:.2f} s)"
    )
