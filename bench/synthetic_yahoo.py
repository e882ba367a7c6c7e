"""Offline stand-in for yfinance.download, for the many-tickers benchmark (a Dask worker preload).

Importing this module replaces yfinance.download with a function that returns a yfinance-1.x-shaped
frame of a positive random walk, seeded by the ticker's name, `NIGHTCAST_BENCH_DAYS` business days
long (default 600). Dask workers import it through DASK_DISTRIBUTED__WORKER__PRELOAD, so the nightly
flow's `yahoo` source runs unchanged without a network.
"""

from __future__ import annotations

import os
import zlib

import numpy as np
import pandas as pd
import yfinance

FIELDS = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]


def history(ticker: str, days: int) -> pd.DataFrame:
    """`days` business days from 2015-01-02 of a random walk seeded by the ticker's name, with FIELDS columns."""
    rng = np.random.default_rng(zlib.crc32(str(ticker).encode()))
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, days)))
    values = np.column_stack(
        [
            close,
            close,
            close * 1.01,
            close * 0.99,
            close * (1 + rng.normal(0, 0.003, days)),
            rng.integers(1_000, 10_000, days).astype("float64"),
        ]
    )
    index = pd.DatetimeIndex(pd.bdate_range("2015-01-02", periods=days), name="Date")
    return pd.DataFrame(values, index=index, columns=FIELDS)


def synthetic_download(tickers, start=None, end=None, **_):
    """A (Price, Ticker) frame of each ticker's history (NIGHTCAST_BENCH_DAYS business days, default 600)
    within start..end (end exclusive, as yfinance's), for one symbol or a list of them."""
    days = int(os.environ.get("NIGHTCAST_BENCH_DAYS", "600"))
    symbols = [tickers] if isinstance(tickers, str) else list(tickers)
    parts = []
    for symbol in symbols:
        frame = history(symbol, days)
        keep = (frame.index >= pd.Timestamp(start or "1900-01-01")) & (frame.index < pd.Timestamp(end or "2200-01-01"))
        frame = frame[keep]
        frame.columns = pd.MultiIndex.from_product([FIELDS, [symbol]], names=["Price", "Ticker"])
        parts.append(frame)
    return pd.concat(parts, axis=1).sort_index(axis=1, level=0, sort_remaining=False)


yfinance.download = synthetic_download


def dask_setup(worker=None):  # pragma: no cover - called by Dask when preloaded
    """Nothing to set up beyond the import-time patch."""
