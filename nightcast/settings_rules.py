"""The rules of a settings combination (nightcast/settings.py): the defaults a source fills in before the fields
are validated, and the combinations refused after."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from nightcast.calendars import check_calendar
from nightcast.tickers import check_ticker

DEFAULT_TICKERS = {"sample": "GOOG", "yahoo": "NFLX"}
TUTORIAL_RANGE = (dt.date(2010, 4, 1), dt.date(2022, 4, 25))


def ticker_or_empty(value: object) -> object:
    """A raw ticker as nightcast/tickers.py checks it, or "" when none is given (the source's default)."""
    return "" if value is None or value == "" else check_ticker(value) if isinstance(value, str) else value


def split_names(value: object) -> object:
    """A comma-separated string of candidate names as a list of names (anything else as it is)."""
    return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


def calendar_or_none(value: str | None) -> str | None:
    """A trading calendar's name checked, or None when none is given (the symbol's calendar)."""
    return None if not value else check_calendar(value)


def with_source_defaults(data: Any) -> Any:
    """Raw settings with the source's defaults filled in, as a new dict (data itself is left as it is): no
    ticker means the source's default ticker (sample: GOOG, yahoo: NFLX), and yahoo without start or end the
    tutorial's range. A file source has no default ticker (a folder's tickers are its files' names)."""
    if not isinstance(data, dict):
        return data
    source = data.get("source", "sample")
    if not isinstance(source, str) or source not in DEFAULT_TICKERS or data.get("ticker") not in (None, ""):
        return data
    filled = {**data, "ticker": DEFAULT_TICKERS[source]}
    if source == "yahoo" and data.get("start") is None and data.get("end") is None:
        filled.update(start=TUTORIAL_RANGE[0], end=TUTORIAL_RANGE[1])
    return filled


def check_combination(source: str, path: str | None, ticker: str, start: dt.date | None, end: dt.date | None) -> None:
    """Refuse an inconsistent combination of validated fields (a ValueError saying why)."""
    if source == "file" and not path:
        raise ValueError("source 'file' needs a path to a CSV or Parquet file")
    if source != "file" and path:
        raise ValueError(f"path is only used with source 'file', not with source {source!r}")
    folder = source == "file" and bool(path) and Path(path or "").is_dir()
    if source == "file" and not ticker and not folder:
        raise ValueError("source 'file' needs a ticker to store the prices under")
    if start and end and start > end:
        raise ValueError(f"start {start} is after end {end}")
