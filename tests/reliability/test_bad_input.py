"""Every kind of bad input gets one clear error, and nothing already stored is lost or altered."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yfinance

from flows import prices as price_steps
from flows.retrain import retrain
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse
from tests.conftest import random_walk_prices

RECORDS = ("runs", "validations", "quarantine", "data_docs", ".locks", "nightcast.duckdb")
"""What a failed run adds to, or rewrites: nightcast.duckdb holds views of the tables (by absolute path, so a
copied warehouse's file changes on its first run), no rows."""


def yahoo_layout(n=150, edits=None) -> pd.DataFrame:
    """A good ACME history in the Yahoo CSV layout, with cell edits {(row, column): value}."""
    frame = random_walk_prices(n, ticker="ACME", seed=11).drop(columns=["ticker", "adj_close"])
    frame = frame.rename(columns=str.title).astype({"Date": "object"})
    for (row, column), value in (edits or {}).items():
        frame.loc[row, column] = value
    return frame


def base_settings(path, **extra) -> dict:
    return {
        "source": "file",
        "path": str(path),
        "ticker": "ACME",
        "time_step": 10,
        "epochs": 1,
        "candidates": ["naive", "drift", "simple_rnn-log_return"],
        **extra,
    }


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, prefect_harness) -> Path:
    """A warehouse with one completed ACME run, copied fresh for every case."""
    root = tmp_path_factory.mktemp("baseline")
    yahoo_layout().to_csv(root / "good.csv", index=False)
    retrain(settings=Settings(**base_settings(root / "good.csv", warehouse=str(root / "wh"))))
    return root / "wh"


@pytest.fixture
def wh(baseline, tmp_path) -> Warehouse:
    shutil.copytree(baseline, tmp_path / "wh")
    return Warehouse(tmp_path / "wh")


def stored_files(root: Path) -> dict[str, bytes]:
    """Every stored file except the run records that a failed run is expected to add to (their earlier rows
    are compared row by row in run_and_check)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] not in RECORDS
    }


def values(frame: pd.DataFrame) -> list[dict]:
    """A table's rows as plain records, every missing value as None (the dtype of an all-null column varies)."""
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def run_and_check(wh: Warehouse, settings: dict, message: str, validated: bool, recorded: bool = True):
    """Run the flow expecting failure; check the message, the untouched tables and the records."""
    before, old_runs = stored_files(wh.root), wh.query("select * from runs order by started_at")
    old_checks = wh.query("select * from validations order by run_id, expectation, observed")
    runs_before = len(old_runs)
    with pytest.raises(Exception) as failure:
        retrain(settings={**settings, "warehouse": str(wh.root)})
    text = str(failure.value)
    assert message in text, text
    assert stored_files(wh.root) == before
    runs = wh.query("select * from runs order by started_at")
    assert len(runs) == runs_before + int(recorded)
    # the run records only gained rows: every earlier run and validation row is as it was
    assert values(runs.iloc[:runs_before]) == values(old_runs)
    checks_now = wh.query("select * from validations order by run_id, expectation, observed")
    assert values(checks_now[checks_now["run_id"].isin(old_checks["run_id"])]) == values(old_checks)
    if recorded:
        new = runs.iloc[-1]
        assert new["status"] == "failed" and message in new["error"]
        checks = wh.query("select success from validations where run_id = ?", [new["run_id"]])
        assert (len(checks) > 0) == validated and (not validated or not checks["success"].all())
    return text


def write(tmp_path, frame: pd.DataFrame, name="prices.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_parquet(path)
    return path


def test_empty_frame_from_yahoo(wh, monkeypatch):
    calls = []
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: calls.append(a) or pd.DataFrame())
    monkeypatch.setattr(price_steps.ingest, "retry_delay_seconds", [0, 0])
    text = run_and_check(
        wh,
        {"source": "yahoo", "ticker": "ACME", "start": "2020-01-01", "end": "2020-12-31", "time_step": 10, "epochs": 1},
        "ingest failed: Yahoo Finance has no prices for 'ACME' (2020-07-22..2020-12-31): the symbol is unknown",
        validated=False,
    )
    assert len(calls) == 1 and "Yahoo Finance" in text  # an unknown symbol is not asked for again


def test_unknown_ticker(wh):
    run_and_check(
        wh,
        {"source": "sample", "ticker": "ZZZZ", "time_step": 10, "epochs": 1},
        "ingest failed: no bundled sample prices for 'ZZZZ'",
        validated=False,
    )


BAD_FILES = {
    "missing_close": (lambda: yahoo_layout().drop(columns=["Close"]), "missing column(s) close", False),
    "nan_closes": (
        lambda: yahoo_layout(edits={(40, "Close"): None, (41, "Close"): None}),
        "close has 2 null value(s)",
        True,
    ),
    "zero_price": (lambda: yahoo_layout(edits={(12, "Close"): 0.0}), "close has 1 value(s) not > 0", True),
    "negative_price": (lambda: yahoo_layout(edits={(12, "Close"): -5.0}), "close has 1 value(s) not > 0", True),
    "high_below_low": (lambda: yahoo_layout(edits={(30, "High"): 1.0}), "high < low in 1 row(s)", True),
    "duplicate_dates": (
        lambda: yahoo_layout(edits={(31, "Date"): yahoo_layout()["Date"][30]}),
        "date has 2 duplicated value(s)",
        True,
    ),
    "unsorted_dates": (
        lambda: yahoo_layout().iloc[[1, 0] + list(range(2, 150))],
        "date is not strictly increasing",
        True,
    ),
    "future_dates": (
        lambda: yahoo_layout(edits={(149, "Date"): pd.Timestamp("2099-01-02")}),
        "1 date(s) in the future",
        True,
    ),
    "outsized_move": (
        lambda: yahoo_layout(edits={(70, "Close"): 900.0, (70, "High"): 901.0}),
        "more than max_daily_move=0.5 (and 1 other day(s) over it); raise max_daily_move",
        True,
    ),
}


FIRST_NIGHT_FILES = {
    "too_few_rows": (lambda: yahoo_layout(n=12), "only 12 rows, need at least 13", True),
    "gap_of_months": (
        lambda: yahoo_layout().drop(index=range(60, 125)),
        "more than max_gap_days=10; raise max_gap_days to accept it",
        True,
    ),
}
"""Bad only for a ticker with nothing stored: for ACME, its stored days fill the gap and the rows."""


@pytest.mark.parametrize(
    "case, ticker", [*((c, "ACME") for c in BAD_FILES), *((c, "NEWCO") for c in FIRST_NIGHT_FILES)]
)
def test_bad_price_file(wh, tmp_path, case, ticker):
    make, message, validated = {**BAD_FILES, **FIRST_NIGHT_FILES}[case]
    stage = f"validate failed: validation failed for {ticker}" if validated else "ingest failed"
    settings = {**base_settings(write(tmp_path, make())), "ticker": ticker}
    text = run_and_check(wh, settings, message, validated)
    assert text.startswith(stage) or f": {stage}" in text or stage in text
    if validated:
        quarantined = list((wh.root / "quarantine" / f"ticker={ticker}").glob("*/prices.parquet"))
        assert len(quarantined) == 1 and (quarantined[0].parent / "validation.json").exists()


def test_a_file_that_fills_a_stored_history_is_validated_with_it(wh, tmp_path):
    """The gap and the few rows above are no failure for ACME: validation sees its stored days too."""
    for frame in (yahoo_layout().drop(index=range(60, 125)), yahoo_layout(n=12)):
        result = retrain(settings={**base_settings(write(tmp_path, frame)), "warehouse": str(wh.root)})
        assert result.prices_added == 0 and result.as_of == wh.query("select max(date) d from prices")["d"][0].date()


def test_malformed_csv(wh, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text('Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,"1.5,100\n2020-01-03,1,2\n')
    run_and_check(wh, base_settings(path), "ingest failed", validated=False)


def test_numbers_as_text_with_thousands_separators(wh, tmp_path):
    frame = yahoo_layout()
    frame["Close"] = [f"{v:,.2f}" for v in frame["Close"] * 100]
    run_and_check(
        wh,
        base_settings(write(tmp_path, frame)),
        "column 'close' has 150 non-numeric value(s), e.g. '10,",
        validated=False,
    )


def test_parquet_of_another_schema(wh, tmp_path):
    path = write(tmp_path, pd.DataFrame({"when": [1, 2], "value": [3.0, 4.0]}), name="other.parquet")
    run_and_check(wh, base_settings(path), "missing column(s) date, open, high, low, close, volume", validated=False)


def test_non_existent_path(wh, tmp_path):
    run_and_check(wh, base_settings(tmp_path / "nowhere.csv"), "file not found", validated=False)


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"ticker": "../../etc"}, "not a valid symbol"),
        ({"ticker": "GO OG"}, "not a valid symbol"),
        ({"ticker": "A'; DROP TABLE prices; --"}, "not a valid symbol"),
        ({"start": "2021-01-02", "end": "2020-01-01"}, "is after end"),
        ({"train_fraction": 0.0}, "train_fraction"),
        ({"train_fraction": 1.5}, "train_fraction"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": -3}, "epochs"),
    ],
    ids=[
        "path_ticker",
        "space_ticker",
        "sql_ticker",
        "start_after_end",
        "fraction_0",
        "fraction_1.5",
        "epochs_0",
        "epochs_negative",
    ],
)
def test_bad_settings_are_refused_before_anything_runs(wh, tmp_path, extra, message):
    before = {str(p): p.read_bytes() for p in wh.root.rglob("*") if p.is_file()}
    settings = {**base_settings(write(tmp_path, yahoo_layout())), **extra}
    run_and_check(wh, settings, message, validated=False, recorded=False)
    assert {str(p): p.read_bytes() for p in wh.root.rglob("*") if p.is_file()} == before


def test_time_step_not_shorter_than_the_series(wh, tmp_path):
    run_and_check(
        wh,
        base_settings(write(tmp_path, yahoo_layout()), time_step=150),
        "only 150 rows, need at least 153",
        validated=True,
    )
