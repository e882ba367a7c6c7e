"""The price source a run's settings name, and the ingest stage's fetch through it."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from nightcast import price_batches
from nightcast.price_batches import Batching, FetchWindow
from nightcast.price_sources import FileSource, FolderSource, IngestError, PriceSource, SampleSource, within_dates
from nightcast.settings import Settings
from nightcast.yahoo import YahooSource, error_for


def source_for(settings: Settings) -> PriceSource:
    """The price source the settings name (a file source's path: one file, or a folder of <TICKER> files)."""
    if settings.source == "file":
        path = Path(settings.path or "")
        return FolderSource(path) if path.is_dir() else FileSource(path)
    return YahooSource() if settings.source == "yahoo" else SampleSource()


def empty_window(settings: Settings, ticker: str, window: FetchWindow) -> IngestError:
    """The error for a source that had no row for a ticker within its window."""
    return IngestError(
        f"no prices for {ticker!r} between {window.start or 'the earliest date'} "
        f"and {window.end or 'the latest date'} from source {settings.source!r}"
    )


def ingest_prices(
    settings: Settings, source: PriceSource | None = None, window: FetchWindow | None = None
) -> pd.DataFrame:
    """Fetch settings' ticker within the window (default: settings' start..end) from the source; no rows at
    all -> IngestError."""
    start, end = (window.start, window.end) if window else (settings.start, settings.end)
    frame = within_dates((source or source_for(settings)).fetch(settings.ticker, start, end), start, end)
    if frame.empty:
        raise empty_window(settings, settings.ticker, window or FetchWindow(start, end, False))
    return frame


def answered_empty(
    source: PriceSource, windows: dict[str, FetchWindow], fetched: dict[str, pd.DataFrame | Exception]
) -> dict[str, Exception]:
    """The errors of tickers a batch call answered without prices and without a network failure (an unknown
    or delisted symbol): asking them again alone would not help."""
    failures = getattr(source, "failures", {})
    return {
        ticker: error_for(ticker, f"{ticker!r} ({w.start or 'earliest'}..{w.end or 'latest'})", failures[ticker])
        for ticker, w in windows.items()
        if ticker not in fetched
        and ticker in failures
        and getattr(failures[ticker], "cause", "unknown_symbol") in ("unknown_symbol", "malformed")
    }


def fetch_tickers(
    source: PriceSource, windows: dict[str, FetchWindow], batching: Batching | None = None
) -> dict[str, pd.DataFrame | Exception]:
    """Every ticker's rows within its window, or the error its fetch ended with. A source that answers many
    tickers per call (Yahoo) is asked in batches first (batching: size, calls at once, backoff on its rate
    limit); a ticker the batches missed, and every ticker of another source, is asked alone."""
    out: dict[str, pd.DataFrame | Exception] = {}
    if batching is not None and len(windows) > 1 and isinstance(source, price_batches.BatchSource):
        plan = price_batches.plan_batches(windows, batching.size)
        out.update(price_batches.fetch_batches(source, plan, batching.concurrency, batching.backoff))
        out.update(answered_empty(source, windows, out))
    for ticker, window in windows.items():
        if ticker in out:
            continue
        try:
            ask = functools.partial(source.fetch, ticker, window.start, window.end)
            frame = price_batches.with_backoff(ask, batching)
            out[ticker] = within_dates(frame, window.start, window.end)
        except Exception as error:
            out[ticker] = error
    return {t: out[t] for t in windows}
