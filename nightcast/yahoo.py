"""Daily prices from Yahoo Finance through yfinance: one download for one or many symbols over nightcast's own
client session (nightcast.yahoo_client), and a symbol that comes back empty named by its cause in one line."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pandas as pd

from nightcast.price_sources import (
    FALLBACK,
    NUMERIC,
    IngestError,
    SourceThrottled,
    SourceUnavailable,
    UnknownSymbol,
    normalize_prices,
    within_dates,
)
from nightcast.yahoo_client import Failure, failure_of, new_session, yfinance_download

TIMEOUT_SECONDS = 10.0
"""yfinance's wait for one answer (its default)."""
RETRY_UNREACHABLE_AFTER = 2.0
"""An unreachable Yahoo is asked once more after this wait; longer outages end the call (the next night's
overlap fetches the missed days), so a run without network fails within seconds."""


def error_for(symbol: str, where: str, failure: Failure | None) -> IngestError:
    """The one-line error for a symbol that came back empty, typed by how worth retrying it is."""
    if failure is None or failure.cause == "unknown_symbol":
        return UnknownSymbol(
            f"Yahoo Finance has no prices for {where}: the symbol is unknown or delisted"
            + (f" ({failure.describe()})" if failure else ", or there were no sessions in that window")
        )
    text = f"Yahoo Finance, {where}: {failure.describe()}"
    if failure.cause == "rate_limit":
        return SourceThrottled(f"{text}; retry later, or ask for fewer symbols per call (fetch.batch_size)")
    if failure.unreachable:
        return SourceUnavailable(f"{text}; {FALLBACK}")
    return IngestError(f"{text}; {FALLBACK}")


def _has_rows(raw: pd.DataFrame, symbol: str) -> bool:
    """Whether the download holds any price for symbol."""
    if raw.empty:
        return False
    if raw.columns.nlevels == 1:
        return bool(raw.notna().any().any())
    level = next((i for i in range(raw.columns.nlevels) if symbol in set(raw.columns.get_level_values(i))), None)
    return level is not None and bool(raw.xs(symbol, axis=1, level=level).notna().any().any())


class YahooSource:
    """Daily prices from Yahoo Finance (network). `download` is yfinance.download unless a test hands in a
    stand-in with its signature (the session handed to it is always nightcast's real client)."""

    def __init__(
        self,
        download: Callable[..., pd.DataFrame] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry_after: float = RETRY_UNREACHABLE_AFTER,
    ):
        self._download = download
        self._sleep = sleep
        self._retry_after = retry_after
        self._session: Any = None
        self.failures: dict[str, Failure | None] = {}
        """Why each symbol that came back empty did (None: no reason given), over every call."""

    def _options(self, start: date | None, end: date | None) -> dict[str, object]:
        options: dict[str, object] = dict(
            auto_adjust=False, actions=False, progress=False, multi_level_index=True, threads=False
        )
        options["timeout"] = TIMEOUT_SECONDS
        if start is None:
            options["period"] = "max"
        else:
            options["start"] = start
            if end is not None:
                options["end"] = end + timedelta(days=1)  # yfinance's end is exclusive
        return options

    def _download_once(
        self, symbols: list[str], start: date | None, end: date | None
    ) -> tuple[pd.DataFrame, dict[str, Failure | None]]:
        """One yfinance download, and why each symbol that came back empty did."""
        if self._session is None:
            self._session = new_session()
        download = self._download or yfinance_download()  # looked up now: tests replace yfinance.download
        arg: str | list[str] = symbols[0] if len(symbols) == 1 else symbols
        try:
            raw = download(arg, session=self._session, **self._options(start, end))
        except Exception as error:  # yfinance catches per symbol; what escapes fails the whole call
            return pd.DataFrame(), dict.fromkeys(symbols, failure_of(error))
        raw = pd.DataFrame() if raw is None else raw
        outcomes = self._session.outcomes
        return raw, {s: outcomes.failure_for(s) for s in symbols if not _has_rows(raw, s)}

    def _call(
        self, symbols: list[str], start: date | None, end: date | None
    ) -> tuple[pd.DataFrame, dict[str, Failure | None]]:
        """A download, asked once more after a short wait when nothing came back because Yahoo was unreachable;
        the empty symbols' causes are also kept in self.failures."""
        raw, failed = self._download_once(symbols, start, end)
        known = [f for f in failed.values() if f is not None]
        if len(failed) == len(symbols) and known and all(f.unreachable for f in known):
            self._sleep(self._retry_after)
            raw, failed = self._download_once(symbols, start, end)
        self.failures.update(failed)
        return raw, failed

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame:
        """Download ticker's unadjusted daily prices and normalize them; nothing back -> the cause's error."""
        raw, failed = self._call([ticker], start, end)
        if ticker in failed:
            raise error_for(ticker, f"{ticker!r} ({start or 'earliest'}..{end or 'latest'})", failed[ticker])
        try:
            return within_dates(normalize_prices(raw, ticker), start, end)
        except IngestError as error:
            raise IngestError(f"Yahoo Finance data for {ticker!r}: {error}") from error

    def fetch_many(self, tickers: list[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]:
        """One download for several tickers; each ticker's rows normalized (the days yfinance adds to align
        the tickers, all empty, dropped). A ticker that came back empty or malformed is left out (its cause in
        self.failures); nothing back at all for a network reason raises that reason's error."""
        raw, failed = self._call(list(tickers), start, end)
        if len(failed) == len(tickers):
            first = next(iter(failed.values()))
            if first is not None and first.cause != "unknown_symbol":
                raise error_for(tickers[0], f"{len(tickers)} symbol(s) from {tickers[0]!r}", first)
        out = {}
        levels = range(raw.columns.nlevels)
        for ticker in tickers:
            if ticker in failed:
                continue
            level = next((i for i in levels if ticker in set(raw.columns.get_level_values(i))), None)
            try:  # one ticker's columns first: normalizing a slice is much cheaper than the whole batch
                frame = normalize_prices(raw.xs(ticker, axis=1, level=level) if level is not None else raw, ticker)
            except IngestError as error:
                self.failures[ticker] = Failure("malformed", str(error))
                continue
            frame = within_dates(frame[frame[list(NUMERIC)].notna().any(axis=1)], start, end)
            if not frame.empty:
                out[ticker] = frame
        return out
