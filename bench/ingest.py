"""Nightly ingest for the S&P 500 on a fake Yahoo (bench.synthetic_yahoo): the rows and download calls a
night asks for, the whole history of every ticker one call each (main before incremental ingest) against
the overlap and the new day in batches; and one ticker's ingest time both ways (read what is stored, fetch,
reconcile with the stored closes, merge into prices). Validation is left out: it is the same either way."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from nightcast.arrow_tables import to_arrow
from nightcast.stage_options import RevisionPolicy
from nightcast.warehouse import Warehouse

TICKERS = 500
DAYS = 5040
"""Twenty years of sessions per ticker."""
OVERLAP = 5
BATCH = 50
TIMED = 20
"""Tickers whose ingest is timed one by one (median)."""


class Counting:
    """Wraps a download function, counting calls and the price rows it returned."""

    def __init__(self, download: Callable[..., pd.DataFrame]):
        self.download, self.calls, self.rows = download, 0, 0

    def __call__(self, tickers, **options) -> pd.DataFrame:
        frame = self.download(tickers, **options)
        self.calls += 1
        self.rows += int(frame.xs("Close", axis=1, level=0).notna().to_numpy().sum())
        return frame


def store_histories(wh: Warehouse, tickers: list[str], days: int) -> None:
    """Each ticker's first `days` sessions as its prices file, as the nightly leaves it."""
    from bench.synthetic_yahoo import history
    from nightcast.price_sources import normalize_prices

    for ticker in tickers:
        frame = normalize_prices(history(ticker, DAYS).iloc[:days].rename_axis("Date"), ticker)
        frame = frame.assign(source="yahoo", ingested_at=pd.Timestamp.now(tz="UTC"))
        folder = wh.partition("prices", ticker)
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(to_arrow("prices", frame), wh.table_file("prices", ticker))


def ingest_one(wh: Warehouse, source, ticker: str, overlap: int | None) -> float:
    """One ticker's ingest (overlap None: the whole history); seconds."""
    from tasks.prices import revisions

    started = time.perf_counter()
    stored = wh.query("select * from prices where ticker = ? order by date", [ticker], tickers=[ticker])
    window = revisions.fetch_window(stored["date"], None, None, overlap or 1, refetch=overlap is None)
    fetched = source.fetch(ticker, window.start, window.end)
    merged = revisions.reconcile(ticker, stored, fetched, window, RevisionPolicy("keep", 1e-4, 3))
    wh.merge_prices(merged.rows, ticker, "yahoo", pd.Timestamp.now(tz="UTC"))
    return time.perf_counter() - started


def measure(log: Callable[[str], None]) -> dict:
    """Rows and calls of one night for TICKERS tickers both ways, and per-ticker ingest seconds."""
    os.environ["NIGHTCAST_BENCH_DAYS"] = str(DAYS)
    from bench.synthetic_yahoo import synthetic_download
    from nightcast import price_batches as batches
    from nightcast.yahoo import YahooSource
    from tasks.prices.revisions import plan_windows

    tickers = [f"T{i:04d}" for i in range(TICKERS)]
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse(Path(tmp) / "wh")
        log(f"ingest: storing {TICKERS} tickers x {DAYS - 1} sessions")
        store_histories(wh, tickers, DAYS - 1)
        full = Counting(synthetic_download)
        started = time.perf_counter()
        for ticker in tickers:
            YahooSource(full).fetch(ticker, None, None)
        full_s = time.perf_counter() - started
        incremental = Counting(synthetic_download)
        started = time.perf_counter()
        stored = wh.query("select ticker, date from prices", tickers=tickers)
        windows = plan_windows(stored, tickers, None, None, OVERLAP)
        fetched = batches.fetch_batches(
            YahooSource(incremental), batches.plan_batches(windows, BATCH), 2, batches.Backoff(0)
        )
        incremental_s = time.perf_counter() - started
        log(f"ingest: timing {TIMED} tickers one by one, whole history and incremental")
        whole = [ingest_one(wh, YahooSource(synthetic_download), t, None) for t in tickers[:TIMED]]
        store_histories(wh, tickers[:TIMED], DAYS - 1)
        overlap = [ingest_one(wh, YahooSource(synthetic_download), t, OVERLAP) for t in tickers[:TIMED]]
    return {
        "tickers": TICKERS,
        "days": DAYS,
        "full": {"calls": full.calls, "rows": full.rows, "fetch_s": full_s},
        "incremental": {
            "calls": incremental.calls,
            "rows": incremental.rows,
            "fetch_s": incremental_s,
            "tickers_answered": len(fetched),
        },
        "per_ticker_full_s": statistics.median(whole),
        "per_ticker_incremental_s": statistics.median(overlap),
    }


def lines(result: dict | None) -> list[str]:
    """The ingest rows of the benchmark table."""
    if not result:
        return []
    full, inc, n = result["full"], result["incremental"], result["tickers"]
    met = "yes" if inc["rows"] < full["rows"] else "**no**"
    return [
        f"| rows a night asks the source for, {n} tickers of {result['days']} sessions (download calls) | "
        f"{inc['rows']:,} ({inc['calls']} calls of {BATCH}) | {full['rows']:,} ({full['calls']} calls) whole history "
        f"| {full['rows'] / max(inc['rows'], 1):.0f}x fewer | fewer | {met} |",
        f"| one ticker's ingest (read stored, fetch, reconcile, merge), median of {TIMED} | "
        f"{result['per_ticker_incremental_s'] * 1000:.0f} ms | {result['per_ticker_full_s'] * 1000:.0f} ms whole "
        f"history | {result['per_ticker_full_s'] / result['per_ticker_incremental_s']:.1f}x | figure | |",
        f"| all {n} tickers' downloads of a night (fake source, no network latency) | {inc['fetch_s']:.1f} s | "
        f"{full['fetch_s']:.1f} s whole history | | figure | |",
    ]
