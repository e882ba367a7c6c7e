"""Ingest stage: fetch one ticker's daily prices from a source and return them in the normalized schema."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Protocol

import pandas as pd

from nightcast.errors import ExpectedFailure
from nightcast.schema import PRICE_COLUMNS, REQUIRED_PRICE_COLUMNS

NUMERIC = ("open", "high", "low", "close", "adj_close", "volume")
FALLBACK = "use --source sample (bundled GOOG, ^GSPC) or --source file --path FILE"
SAMPLE_DIR = Path(__file__).resolve().parent / "sample_data"
"""Bundled prices (nightcast/sample_data/)."""
_TZ_SUFFIX = r"(\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*(?:Z|[+-]\d\d:?\d\d)$"


class IngestError(ExpectedFailure, ValueError):
    """Prices could not be obtained; the message names the ticker/path and what to do."""


class SourceUnavailable(IngestError):
    """A network source could not be reached (no network, DNS, timeout, server error): worth retrying later."""


class SourceThrottled(SourceUnavailable):
    """A network source asked us to slow down (a rate limit): worth retrying after a longer wait."""


class UnknownSymbol(IngestError):
    """The source has no such symbol (or no prices for it at all): retrying will not help."""


class PriceSource(Protocol):
    """Anything that returns one ticker's prices, normalized, within start..end (inclusive)."""

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame: ...


def one_line(error: BaseException) -> str:
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


def within_dates(frame: pd.DataFrame, start: date | None, end: date | None) -> pd.DataFrame:
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
        return within_dates(normalize_prices(pd.read_parquet(files[ticker]), ticker), start, end)


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
            raise IngestError(
                f"file not found: {self.path}: give the path of a CSV or Parquet file of daily prices "
                "(docs/pipeline.md#price-files), or --source sample for the bundled prices"
            )
        try:
            raw = pd.read_csv(self.path) if suffix == ".csv" else pd.read_parquet(self.path)
        except Exception as error:
            raise IngestError(f"could not read {self.path}: {one_line(error)}") from error
        try:
            return within_dates(normalize_prices(raw, ticker), start, end)
        except IngestError as error:
            raise IngestError(f"{self.path}: {error}") from error


class FolderSource:
    """Daily prices from a folder of files, one per ticker: <TICKER>.csv or <TICKER>.parquet (the file's name
    is the ticker), each in a layout FileSource reads."""

    SUFFIXES = (".csv", ".parquet")

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def tickers(self) -> list[str]:
        """The tickers the folder holds a file for, sorted (a name that is no valid symbol is left out)."""
        from nightcast.tickers import TICKER_PATTERN

        names = {p.stem for p in self.folder.iterdir() if p.is_file() and p.suffix.lower() in self.SUFFIXES}
        return sorted(n for n in names if TICKER_PATTERN.fullmatch(n))

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame:
        """The ticker's file's prices within start..end."""
        found = [self.folder / f"{ticker}{suffix}" for suffix in self.SUFFIXES]
        existing = [p for p in found if p.is_file()]
        if not existing:
            raise IngestError(
                f"no file for {ticker!r} in {self.folder}: looked for {found[0].name} and {found[1].name}"
            )
        if len(existing) > 1:
            raise IngestError(
                f"two files for {ticker!r} in {self.folder}: keep one of {existing[0].name}, {existing[1].name}"
            )
        return FileSource(existing[0]).fetch(ticker, start, end)
