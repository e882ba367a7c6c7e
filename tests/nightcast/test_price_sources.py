"""The price sources (nightcast/price_sources.py, yahoo.py, price_fetch.py): every source yields PRICE_COLUMNS, rows in
source order, clear one-line errors. No network."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from nightcast.price_fetch import ingest_prices, source_for
from nightcast.price_sources import (
    FileSource,
    IngestError,
    SampleSource,
    UnknownSymbol,
    normalize_prices,
)
from nightcast.schema import PRICE_COLUMNS
from nightcast.settings import Settings
from nightcast.yahoo import YahooSource

FIELDS = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
NFLX_ROWS = [  # date, adj close, close, high, low, open, volume
    ("2022-04-21", 218.22, 218.22, 225.00, 213.00, 223.00, 61_000_000),
    ("2022-04-22", 215.52, 215.52, 219.00, 211.00, 217.00, 35_000_000),
    ("2022-04-25", 209.91, 209.91, 214.00, 206.00, 213.00, 31_000_000),
]


def yahoo_frame(rows=NFLX_ROWS, ticker: str = "NFLX") -> pd.DataFrame:
    """A frame shaped exactly like yfinance 1.x download(..., multi_level_index=True) output."""
    columns = pd.MultiIndex.from_product([FIELDS, [ticker]], names=["Price", "Ticker"])
    index = pd.DatetimeIndex([r[0] for r in rows], name="Date")
    return pd.DataFrame([r[1:] for r in rows], index=index, columns=columns)


class FakeDownload:
    """Stands in for yfinance.download: records the call, returns (or raises) what it is given."""

    def __init__(self, result):
        self.result, self.args, self.kwargs = result, None, None

    def __call__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def one_line(error: pytest.ExceptionInfo) -> str:
    """The error's message, asserting it is a single line."""
    message = str(error.value)
    assert "\n" not in message
    return message


def write(tmp_path, name: str, text: str):
    """A small file under tmp_path."""
    path = tmp_path / name
    path.write_text(text)
    return path


# --- Yahoo ---------------------------------------------------------------------------------------


def test_yahoo_multiindex_frame_normalizes_to_schema():
    out = YahooSource(FakeDownload(yahoo_frame())).fetch("NFLX", date(2022, 4, 21), date(2022, 4, 25))
    assert list(out.columns) == list(PRICE_COLUMNS)
    assert list(out.index) == [0, 1, 2]
    assert list(out["date"]) == [pd.Timestamp("2022-04-21"), pd.Timestamp("2022-04-22"), pd.Timestamp("2022-04-25")]
    assert out["date"].dtype.kind == "M" and out["date"].dt.tz is None
    assert (out["ticker"] == "NFLX").all()
    assert out.iloc[0][["open", "high", "low", "close", "adj_close", "volume"]].tolist() == [
        223.00,
        225.00,
        213.00,
        218.22,
        218.22,
        61_000_000.0,
    ]
    assert all(out[c].dtype == "float64" for c in ["open", "high", "low", "close", "adj_close", "volume"])


def test_yahoo_is_asked_for_end_plus_one_day_unadjusted():
    fake = FakeDownload(yahoo_frame())
    YahooSource(fake).fetch("NFLX", date(2022, 4, 21), date(2022, 4, 25))
    assert fake.args == ("NFLX",)
    assert fake.kwargs["start"] == date(2022, 4, 21)
    assert fake.kwargs["end"] == date(2022, 4, 26)
    assert fake.kwargs["auto_adjust"] is False
    assert fake.kwargs["multi_level_index"] is True and fake.kwargs["progress"] is False


def test_yahoo_without_start_asks_for_max_period_and_filters_end_locally():
    fake = FakeDownload(yahoo_frame())
    out = YahooSource(fake).fetch("NFLX", None, date(2022, 4, 22))
    assert fake.kwargs["period"] == "max" and "start" not in fake.kwargs and "end" not in fake.kwargs
    assert len(out) == 2


def test_yahoo_extra_rows_outside_range_are_dropped_inclusively():
    out = YahooSource(FakeDownload(yahoo_frame())).fetch("NFLX", date(2022, 4, 22), date(2022, 4, 22))
    assert list(out["close"]) == [215.52]


@pytest.mark.parametrize(
    "empty",
    [
        pd.DataFrame(),
        pd.DataFrame(columns=pd.MultiIndex.from_product([FIELDS, ["NFLX"]], names=["Price", "Ticker"])),
    ],
    ids=["no-columns", "multiindex-columns"],
)
def test_yahoo_empty_result_is_a_clear_error(empty):
    with pytest.raises(UnknownSymbol) as error:
        YahooSource(FakeDownload(empty)).fetch("NFLX", date(2010, 4, 1), date(2022, 4, 25))
    message = one_line(error)
    assert "'NFLX'" in message and "2010-04-01..2022-04-25" in message and "unknown or delisted" in message


def test_yahoo_download_that_raises_is_a_clear_error():
    fake = FakeDownload(ConnectionError("Failed to resolve\n'query2.finance.yahoo.com'"))
    with pytest.raises(IngestError) as error:
        YahooSource(fake, sleep=lambda seconds: None).fetch("NFLX", date(2010, 4, 1), None)
    message = one_line(error)
    assert "'NFLX'" in message and "cannot connect to Yahoo: Failed to resolve" in message
    assert "--source sample" in message


def test_yahoo_flat_columns_are_accepted():
    flat = yahoo_frame().droplevel("Ticker", axis=1)
    out = YahooSource(FakeDownload(flat)).fetch("NFLX", None, None)
    assert list(out["close"]) == [218.22, 215.52, 209.91]


def test_normalize_picks_the_ticker_from_a_multi_ticker_frame():
    both = pd.concat([yahoo_frame(ticker="NFLX"), yahoo_frame(ticker="GOOG") * 2], axis=1)
    out = normalize_prices(both, "GOOG")
    assert list(out["close"]) == [436.44, 431.04, 419.82] and (out["ticker"] == "GOOG").all()


# --- bundled sample ------------------------------------------------------------------------------


def test_sample_lists_the_bundled_tickers():
    assert set(SampleSource().available()) == {"GOOG", "^GSPC"}


def test_sample_goog_is_the_whole_bundled_history():
    out = SampleSource().fetch("GOOG", None, None)
    assert len(out) == 2148 and list(out.columns) == list(PRICE_COLUMNS)
    assert out["date"].iloc[0] == pd.Timestamp("2004-08-19")
    assert out.iloc[0][["open", "close"]].tolist() == [100.00, 100.34]
    assert out["adj_close"].isna().all()


def test_sample_start_and_end_are_inclusive():
    out = SampleSource().fetch("GOOG", date(2004, 8, 20), date(2004, 8, 24))  # Fri, (weekend), Mon, Tue
    assert list(out["date"].dt.strftime("%Y-%m-%d")) == ["2004-08-20", "2004-08-23", "2004-08-24"]
    assert list(out.index) == [0, 1, 2]


def test_sample_unknown_ticker_lists_the_bundled_ones():
    with pytest.raises(IngestError) as error:
        SampleSource().fetch("NFLX", None, None)
    message = one_line(error)
    assert "'NFLX'" in message and "GOOG" in message and "^GSPC" in message


# --- files ---------------------------------------------------------------------------------------


def test_csv_in_goog_layout_with_unnamed_date_column(tmp_path):
    path = write(
        tmp_path,
        "goog.csv",
        ",Open,High,Low,Close,Volume\n"
        "2004-08-19,100.0,104.06,95.96,100.34,22351900\n"
        "2004-08-20,101.01,109.08,100.5,108.31,11428600\n",
    )
    out = FileSource(path).fetch("GOOG", None, None)
    assert list(out.columns) == list(PRICE_COLUMNS)
    assert list(out["date"]) == [pd.Timestamp("2004-08-19"), pd.Timestamp("2004-08-20")]
    assert out.iloc[1][["open", "high", "low", "close", "volume"]].tolist() == [
        101.01,
        109.08,
        100.5,
        108.31,
        11428600.0,
    ]
    assert out["adj_close"].isna().all() and out["adj_close"].dtype == "float64"


def test_csv_in_gspc_layout_with_us_dates_and_adj_close(tmp_path):
    path = write(
        tmp_path,
        "gspc.CSV",
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "1/4/1999,1229.23,1248.81,1219.1,1228.1,1228.1,877000000\n"
        "1/5/1999,1228.1,1246.11,1225.1,1244.78,1244.78,775000000\n",
    )
    out = FileSource(path).fetch("^GSPC", None, None)
    assert list(out["date"]) == [pd.Timestamp("1999-01-04"), pd.Timestamp("1999-01-05")]
    assert list(out["adj_close"]) == [1228.1, 1244.78] and (out["ticker"] == "^GSPC").all()


def test_parquet_file(tmp_path):
    path = tmp_path / "prices.parquet"
    yahoo_frame().droplevel("Ticker", axis=1).reset_index().to_parquet(path, index=False)
    out = FileSource(path).fetch("MYCO", date(2022, 4, 22), None)
    assert list(out["close"]) == [215.52, 209.91] and (out["ticker"] == "MYCO").all()


def test_csv_saved_from_yfinance_1x_with_its_two_extra_header_rows(tmp_path):
    path = tmp_path / "nflx.csv"
    yahoo_frame().to_csv(path)  # header lines: Price,... / Ticker,NFLX,... / Date,,,...
    assert list(FileSource(path).fetch("NFLX", None, None)["close"]) == [218.22, 215.52, 209.91]


def test_missing_close_column_is_named(tmp_path):
    path = write(tmp_path, "p.csv", "Date,Open,High,Low,Volume\n2020-01-02,1,2,0.5,10\n")
    with pytest.raises(IngestError) as error:
        FileSource(path).fetch("X", None, None)
    message = one_line(error)
    assert "missing column(s) close" in message and "found: date, open, high, low, volume" in message


def test_non_numeric_price_is_refused_not_turned_into_nan(tmp_path):
    path = write(tmp_path, "p.csv", "Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,n/a?,10\n")
    with pytest.raises(IngestError, match="column 'close' has 1 non-numeric"):
        FileSource(path).fetch("X", None, None)


def test_unparseable_date_is_refused_with_an_example(tmp_path):
    path = write(tmp_path, "p.csv", "Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\nsoon,1,2,0.5,1.5,10\n")
    with pytest.raises(IngestError, match="column 'date' is not all YYYY-MM-DD or all M/D/YYYY dates, e.g. 'soon'"):
        FileSource(path).fetch("X", None, None)


def test_missing_file(tmp_path):
    with pytest.raises(IngestError, match="file not found: .*nope.csv"):
        FileSource(tmp_path / "nope.csv").fetch("X", None, None)


def test_unsupported_suffix(tmp_path):
    path = write(tmp_path, "prices.xlsx", "whatever")
    with pytest.raises(IngestError, match=r"unsupported file type '\.xlsx'"):
        FileSource(path).fetch("X", None, None)


def test_unreadable_parquet_names_the_path(tmp_path):
    path = write(tmp_path, "broken.parquet", "this is not parquet")
    with pytest.raises(IngestError) as error:
        FileSource(path).fetch("X", None, None)
    assert one_line(error).startswith(f"could not read {path}: ")


def test_unsorted_duplicate_and_nan_rows_are_kept_for_validation(tmp_path):
    path = write(
        tmp_path,
        "p.csv",
        "Date,Open,High,Low,Close,Volume\n"
        "2020-01-03,1,2,0.5,1.5,10\n2020-01-02,1,2,0.5,,10\n2020-01-03,1,2,0.5,1.6,10\n",
    )
    out = FileSource(path).fetch("X", None, None)
    assert list(out["date"].dt.day) == [3, 2, 3]
    assert out["close"].iloc[0] == 1.5 and math.isnan(out["close"].iloc[1])


# --- ingest_prices -------------------------------------------------------------------------------


def test_ingest_prices_from_settings_uses_the_sample_source():
    settings = Settings(source="sample", ticker="GOOG", start=date(2004, 8, 20), end=date(2004, 8, 24))
    out = ingest_prices(settings)
    assert len(out) == 3 and list(out.columns) == list(PRICE_COLUMNS)


def test_ingest_prices_with_an_injected_source():
    class Fixed:
        def fetch(self, ticker, start, end):
            return normalize_prices(yahoo_frame(), ticker)

    settings = Settings(source="yahoo", ticker="NFLX", start=date(2022, 4, 22), end=date(2022, 4, 25))
    assert list(ingest_prices(settings, Fixed())["close"]) == [215.52, 209.91]


def test_ingest_prices_with_no_rows_in_range_is_an_error():
    settings = Settings(source="sample", ticker="GOOG", start=date(2020, 1, 1), end=date(2020, 2, 1))
    with pytest.raises(IngestError) as error:
        ingest_prices(settings)
    assert "no prices for 'GOOG' between 2020-01-01 and 2020-02-01" in one_line(error)


def test_source_for_each_kind(tmp_path):
    assert isinstance(source_for(Settings(source="sample")), SampleSource)
    assert isinstance(source_for(Settings(source="yahoo")), YahooSource)
    file_source = source_for(Settings(source="file", ticker="X", path=str(tmp_path / "p.csv")))
    assert isinstance(file_source, FileSource) and file_source.path == tmp_path / "p.csv"
