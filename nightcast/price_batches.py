"""Many tickers from a network source in few calls: tickers that need the same window are asked for together,
batch_size symbols per call, a bounded number of calls at once, with exponential backoff when a call fails or
is throttled (Yahoo's rate limit)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import pandas as pd

from nightcast.price_sources import SourceThrottled, SourceUnavailable

T = TypeVar("T")


@dataclass(frozen=True)
class FetchWindow:
    """The dates to request (None: unbounded) and whether only the overlap and new days are asked for."""

    start: dt.date | None
    end: dt.date | None
    incremental: bool

    def describe(self) -> str:
        """'2013-02-22..latest (incremental)' for logs and errors."""
        mode = "incremental" if self.incremental else "whole history"
        return f"{self.start or 'earliest'}..{self.end or 'latest'} ({mode})"


@runtime_checkable
class BatchSource(Protocol):
    """A source that answers several tickers in one call (YahooSource)."""

    def fetch_many(self, tickers: list[str], start: dt.date | None, end: dt.date | None) -> dict[str, pd.DataFrame]: ...


@dataclass(frozen=True)
class Batch:
    """Tickers fetched in one call over one window."""

    tickers: tuple[str, ...]
    window: FetchWindow


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently a failed call is tried again."""

    retries: int = 3
    first_seconds: float = 2.0

    def delays(self) -> list[float]:
        """Waits before each retry: first_seconds, doubled each time."""
        return [self.first_seconds * 2**i for i in range(self.retries)]


@dataclass(frozen=True)
class Batching:
    """How a source that answers many tickers per call is asked: symbols per call, calls at once, backoff."""

    size: int = 50
    concurrency: int = 2
    backoff: Backoff = Backoff()


def with_backoff(call: Callable[[], T], batching: Batching | None, sleep: Callable[[float], None] = time.sleep) -> T:
    """call(), asked again after each of the backoff's waits while the source throttles (its rate limit);
    any other error, or a throttle after the last wait, is raised."""
    for delay in [*(batching.backoff.delays() if batching else []), None]:
        try:
            return call()
        except SourceThrottled:
            if delay is None:
                raise
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def plan_batches(windows: dict[str, FetchWindow], size: int) -> list[Batch]:
    """Group the tickers by window (ticker order kept) and cut each group into batches of at most size."""
    groups: dict[tuple, list[str]] = {}
    for ticker, window in windows.items():
        groups.setdefault((window.start, window.end, window.incremental), []).append(ticker)
    batches = []
    for (start, end, incremental), tickers in groups.items():
        window = FetchWindow(start, end, incremental)
        batches += [Batch(tuple(tickers[i : i + size]), window) for i in range(0, len(tickers), size)]
    return batches


def fetch_batch(
    source: BatchSource, batch: Batch, backoff: Backoff, sleep: Callable[[float], None] = time.sleep
) -> dict[str, pd.DataFrame]:
    """One batch's prices, retried with backoff while the source throttles; {} when it stays so, or when it is
    unreachable (the source itself asked again once)."""
    try:
        return with_backoff(
            lambda: source.fetch_many(list(batch.tickers), batch.window.start, batch.window.end),
            Batching(len(batch.tickers), 1, backoff),
            sleep,
        )
    except SourceUnavailable:  # throttled to the end, or unreachable
        return {}


def fetch_batches(
    source: BatchSource,
    batches: list[Batch],
    concurrency: int,
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, pd.DataFrame]:
    """Every batch, at most `concurrency` calls at once; tickers the source did not answer are absent
    (their own run fetches them alone, with its own retries)."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda batch: fetch_batch(source, batch, backoff, sleep), batches))
    return {ticker: frame for result in results for ticker, frame in result.items()}
