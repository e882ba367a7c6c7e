"""A stand-in for yfinance.download over known histories: it answers like yfinance 1.x and records every call."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

FIELDS = {"Adj Close": "close", "Close": "close", "High": "high", "Low": "low", "Open": "open", "Volume": "volume"}


@dataclass(frozen=True)
class Call:
    """One download call: the symbols and the dates asked for (end inclusive; start None: period max)."""

    symbols: tuple[str, ...]
    start: dt.date | None
    end: dt.date | None


class FakeYahoo:
    """yfinance.download over `histories` (ticker -> normalized prices): (Price, Ticker) columns, dates aligned
    across the tickers asked for (NaN where a ticker has no row, all NaN for an unknown ticker), an empty
    frame when nothing matches; the first `throttle` calls fail with yfinance's rate-limit error."""

    def __init__(self, histories: dict[str, pd.DataFrame], throttle: int = 0, delay: float = 0.0):
        self.histories = histories
        self.throttle = throttle
        self.delay = delay
        self.calls: list[Call] = []
        self.active = self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, tickers, **options) -> pd.DataFrame:
        symbols = (tickers,) if isinstance(tickers, str) else tuple(tickers)
        start = pd.Timestamp(options["start"]).date() if "start" in options else None
        end = (pd.Timestamp(options["end"]) - pd.Timedelta(days=1)).date() if "end" in options else None
        with self._lock:
            self.calls.append(Call(symbols, start, end))
            self.active += 1
            self.most_at_once = max(self.most_at_once, self.active)
            throttled = self.throttle > 0
            self.throttle -= throttled
        try:
            time.sleep(self.delay)
            if throttled:
                from yfinance.exceptions import YFRateLimitError

                raise YFRateLimitError()
            return self._frame(symbols, start, end)
        finally:
            with self._lock:
                self.active -= 1

    def _frame(self, symbols: tuple[str, ...], start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        parts = {}
        for symbol in symbols:
            history = self.histories.get(symbol)
            if history is None:
                continue
            days = pd.to_datetime(history["date"])
            keep = days.between(pd.Timestamp(start or dt.date.min), pd.Timestamp(end or dt.date.max))
            rows = history[keep.to_numpy()]
            parts[symbol] = pd.DataFrame(
                {name: rows[column].to_numpy() for name, column in FIELDS.items()},
                index=pd.DatetimeIndex(pd.to_datetime(rows["date"]), name="Date"),
            )
        if not any(len(p) for p in parts.values()):
            return pd.DataFrame()
        index = pd.DatetimeIndex(sorted(set().union(*(p.index for p in parts.values()))), name="Date")
        columns = pd.MultiIndex.from_product([list(FIELDS), list(symbols)], names=["Price", "Ticker"])
        out = pd.DataFrame(np.nan, index=index, columns=columns)
        for symbol, part in parts.items():
            for name in FIELDS:
                out.loc[part.index, (name, symbol)] = part[name].to_numpy()
        return out

    def requested(self, symbol: str) -> list[Call]:
        """The calls that asked for symbol."""
        return [call for call in self.calls if symbol in call.symbols]


class Failing:
    """yfinance.download that raises error on every call and counts the calls."""

    def __init__(self, error: BaseException):
        self.error, self.calls = error, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        assert kwargs["session"] is not None and kwargs["timeout"] > 0
        raise self.error
