"""Ingest stage: fetch one ticker's daily prices from a source and return them in the normalized schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

import pandas as pd

from nightcast.errors import ExpectedFailure
from nightcast.schema import PRICE_COLUMNS, REQUIRED_PRICE_COLUMNS
from nightcast.settings import Settings
from tasks.revisions import FetchWindow

NUMERIC = ("open", "high", "low", "close", "adj_close", "volume")
FALLBACK = "use --source sample (bundled GOOG, ^GSPC) or --source file --path FILE"
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "nightcast" / "sample_data"
"""Bundled prices; tasks/ and nightcast/ sit side by side both in the checkout and when installed."""
_TZ_SUFFIX = r"(\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*(?:Z|[+-]\d\d:?\d\d)$"


class IngestError(ExpectedFailure, ValueError):
    """Prices could not be obtained; the message names the ticker/path and what to do."""


class SourceUnavailable(IngestError):
    """A network source gave nothing (offline, throttled or unknown symbol): worth retrying later."""


class PriceSource(Protocol):
    """Anything that returns one ticker's prices, normalized, within start..end (inclusive)."""

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame: ...


def _one_line(error: BaseException) -> str:
    """An exception as 'Type: message' on a single line."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _key(name: object) -> str:
    """A column name as a schema key: 'Adj Close' -> 'adj_close'."""
    return "_".join(str(name).strip().lower().split())


def _flatten(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Reduce (Price, Ticker) MultiIndex columns to the price level, keeping only this ticker."""
    prices = next(
        (i for i in range(raw.columns.nlevels) if "close" in {_key(v) for v in raw.columns.get_level_values(i)}), 0
    )
    for level in reversed([i for i in range(raw.columns.nlevels) if i != prices]):
        values = raw.columns.get_level_values(level)
        if ticker in set(values) and values.nunique() > 1:
            raw = raw.xs(ticker, axis=1, level=level, drop_level=False)
    raw = raw.copy()
    raw.columns = raw.columns.get_level_values(prices)
    if raw.columns.duplicated().any():
        raise IngestError(f"columns hold several tickers, none of them {ticker!r}")
    return raw


def _dates(values: pd.Series) -> pd.Series:
    """Parse ISO or M/D/YYYY dates (a trailing UTC offset is dropped) to tz-naive midnights."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        text = values.astype("string").str.strip().str.replace(_TZ_SUFFIX, r"\1", regex=True)
        parsed = [pd.to_datetime(text, format=fmt, errors="coerce") for fmt in ("ISO8601", "%m/%d/%Y")]
        fails = [p.isna() & text.notna() for p in parsed]
        if fails[0].any() and fails[1].any():
            example = (text[fails[0] & fails[1]].tolist() or text[fails[0]].tolist())[0]
            raise IngestError(f"column 'date' is not all YYYY-MM-DD or all M/D/YYYY dates, e.g. {example!r}")
        values = parsed[0] if not fails[0].any() else parsed[1]
    if values.dt.tz is not None:
        values = values.dt.tz_localize(None)
    if values.isna().any():
        raise IngestError(f"column 'date' is empty in {int(values.isna().sum())} row(s)")
    return values.dt.normalize().astype("datetime64[us]")


def _numbers(values: pd.Series, column: str) -> pd.Series:
    """A price column as float64; text that is not a number is refused, never turned into NaN."""
    parsed = pd.to_numeric(values, errors="coerce")
    bad = parsed.isna() & values.notna()
    if bad.any():
        raise IngestError(f"column '{column}' has {int(bad.sum())} non-numeric value(s), e.g. {values[bad].iloc[0]!r}")
    return parsed.astype("float64")


def normalize_prices(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Convert a Yahoo-style or already-normalized price frame to PRICE_COLUMNS, row order kept."""
    frame = _flatten(raw, ticker) if raw.columns.nlevels > 1 else raw.copy()
    if not isinstance(frame.index, pd.RangeIndex) or any(n is not None for n in frame.index.names):
        frame = frame.reset_index()
    keys = [_key(c) for c in frame.columns]
    if keys and keys[0] in ("", "index", "unnamed:_0", "price") and "date" not in keys:
        keys[0] = "date"
    frame.columns = ["date" if k == "datetime" else k for k in keys]
    if "date" in frame and frame["date"].isin(["Ticker", "Date"]).any():
        frame = frame[~frame["date"].isin(["Ticker", "Date"])]  # yfinance 1.x to_csv header rows
    missing = [c for c in REQUIRED_PRICE_COLUMNS if c not in frame.columns]
    if missing:
        raise IngestError(
            f"missing column(s) {', '.join(missing)}; found: {', '.join(map(str, frame.columns)) or 'none'}"
        )
    out = pd.DataFrame({"ticker": pd.Series(ticker, index=frame.index, dtype="str"), "date": _dates(frame["date"])})
    for column in NUMERIC:
        out[column] = _numbers(frame[column], column) if column in frame else float("nan")
    return out.loc[:, list(PRICE_COLUMNS)].reset_index(drop=True)


def _within(frame: pd.DataFrame, start: date | None, end: date | None) -> pd.DataFrame:
    """Rows with start <= date <= end (either bound optional), order kept, index reset."""
    keep = frame["date"].between(pd.Timestamp(start or date.min), pd.Timestamp(end or date.max))
    return frame[keep].reset_index(drop=True)


class SampleSource:
    """Real daily prices bundled with nightcast (nightcast/sample_data/*.parquet); works offline."""

    def available(self) -> dict[str, Path]:
        """Bundled ticker -> its Parquet file, e.g. {'GOOG': ..., '^GSPC': ...}."""
        files = sorted(SAMPLE_DIR.glob("*.parquet"))
        return {str(pd.read_parquet(f, columns=["ticker"])["ticker"].iloc[0]): f for f in files}

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame:
        """The bundled prices of ticker within start..end."""
        files = self.available()
        if ticker not in files:
            raise IngestError(
                f"no bundled sample prices for {ticker!r}; bundled tickers: "
                f"{', '.join(files) or 'none'}; use --source yahoo or --source file --path FILE"
            )
        return _within(normalize_prices(pd.read_parquet(files[ticker]), ticker), start, end)


class YahooSource:
    """Daily prices from Yahoo Finance through yfinance (network); nothing comes back -> IngestError."""

    def __init__(self, download: Callable[..., pd.DataFrame] | None = None):
        self._download = download

    def _call(self, symbols: str | list[str], start: date | None, end: date | None) -> pd.DataFrame:
        """One yfinance download of unadjusted daily prices; an error or nothing back -> SourceUnavailable."""
        download = self._download
        if download is None:
            import yfinance

            download = yfinance.download
        options: dict[str, object] = dict(
            auto_adjust=False, actions=False, progress=False, multi_level_index=True, threads=False
        )
        if start is None:
            options["period"] = "max"
        else:
            options["start"] = start
            if end is not None:
                options["end"] = end + timedelta(days=1)  # yfinance's end is exclusive
        names = symbols if isinstance(symbols, str) else ",".join(symbols)
        where = f"{names!r} ({start or 'earliest'}..{end or 'latest'})"
        try:
            raw = download(symbols, **options)
        except Exception as error:
            raise SourceUnavailable(
                f"Yahoo Finance download failed for {where}: {_one_line(error)}; {FALLBACK}"
            ) from error
        if raw is None or raw.empty:
            raise SourceUnavailable(
                f"Yahoo Finance returned no prices for {where}: the symbol may be "
                f"unknown or Yahoo unreachable; {FALLBACK}"
            )
        return raw

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame:
        """Download ticker's unadjusted daily prices and normalize them."""
        raw = self._call(ticker, start, end)
        try:
            return _within(normalize_prices(raw, ticker), start, end)
        except IngestError as error:
            raise IngestError(f"Yahoo Finance data for {ticker!r}: {error}") from error

    def fetch_many(self, tickers: list[str], start: date | None, end: date | None) -> dict[str, pd.DataFrame]:
        """One download for several tickers; each ticker's rows normalized (the days yfinance adds to align
        the tickers, all empty, dropped). A ticker that came back empty or malformed is left out."""
        raw = self._call(list(tickers), start, end)
        out = {}
        levels = range(raw.columns.nlevels)
        for ticker in tickers:
            level = next((i for i in levels if ticker in set(raw.columns.get_level_values(i))), None)
            try:  # one ticker's columns first: normalizing a slice is much cheaper than the whole batch
                frame = normalize_prices(raw.xs(ticker, axis=1, level=level) if level is not None else raw, ticker)
            except IngestError:
                continue
            frame = _within(frame[frame[list(NUMERIC)].notna().any(axis=1)], start, end)
            if not frame.empty:
                out[ticker] = frame
        return out


class FileSource:
    """Daily prices from a CSV or Parquet file in a Yahoo-style or normalized layout."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame:
        """The file's prices (.csv or .parquet), stored under ticker, within start..end."""
        suffix = self.path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise IngestError(f"unsupported file type {suffix or '(none)'!r} for {self.path}: use .csv or .parquet")
        if not self.path.is_file():
            raise IngestError(f"file not found: {self.path}")
        try:
            raw = pd.read_csv(self.path) if suffix == ".csv" else pd.read_parquet(self.path)
        except Exception as error:
            raise IngestError(f"could not read {self.path}: {_one_line(error)}") from error
        try:
            return _within(normalize_prices(raw, ticker), start, end)
        except IngestError as error:
            raise IngestError(f"{self.path}: {error}") from error


def source_for(settings: Settings) -> PriceSource:
    """The price source the settings name."""
    if settings.source == "file":
        return FileSource(settings.path or "")
    return YahooSource() if settings.source == "yahoo" else SampleSource()


def ingest_prices(
    settings: Settings, source: PriceSource | None = None, window: FetchWindow | None = None
) -> pd.DataFrame:
    """Fetch settings' ticker within the window (default: settings' start..end) from the source; no rows at
    all -> IngestError."""
    start, end = (window.start, window.end) if window else (settings.start, settings.end)
    frame = _within((source or source_for(settings)).fetch(settings.ticker, start, end), start, end)
    if frame.empty:
        raise IngestError(
            f"no prices for {settings.ticker!r} between {start or 'the earliest date'} "
            f"and {end or 'the latest date'} from source {settings.source!r}"
        )
    return frame
