"""The panel validation: one GX run over many tickers gives every ticker the verdict it gets alone, and a ticker
the panel flags is reported (and its page written) on its own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from flows.prices import write_panel_docs
from nightcast.stage_options import Limits
from tasks.prices.expectations import derive
from tasks.prices.panel_validate import panel_batch, validate_panel
from tasks.prices.validate import validate_prices
from tests.conftest import random_walk_prices

LIMITS = Limits(today=date(2030, 1, 1))
MIN_ROWS = 103


def _set(row: int, column: str, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame[column] = frame[column].astype(object) if isinstance(value, str) else frame[column]
        frame.loc[row, column] = value
        return frame

    return change


CORRUPTIONS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "nan_close": _set(7, "close", np.nan),
    "negative_close": _set(8, "close", -1.0),
    "high_below_low": _set(9, "high", 1.0),
    "duplicate_date": lambda f: f.assign(date=f["date"].where(f.index != 10, f["date"][9])),
    "unsorted": lambda f: f.iloc[[*range(20), 21, 20, *range(22, len(f))]].reset_index(drop=True),
    "future_date": lambda f: f.assign(date=f["date"].where(f.index != len(f) - 1, pd.Timestamp("2031-01-02"))),
    "big_gap": lambda f: f.assign(date=f["date"].where(f.index < 100, f["date"] + pd.Timedelta(days=30))),
    "big_move": lambda f: f.assign(close=f["close"].where(f.index != 50, f["close"] * 3)),
    "too_short": lambda f: f.iloc[:60].reset_index(drop=True),
    "missing_column": lambda f: f.drop(columns=["high"]),
    "text_dates": lambda f: f.assign(date="not a date"),
}


def _panel(n: int, bad: dict[str, str]) -> dict[str, pd.DataFrame]:
    frames = {f"T{i}": random_walk_prices(400, f"T{i}", seed=i) for i in range(n)}
    for ticker, kind in bad.items():
        frames[ticker] = CORRUPTIONS[kind](frames[ticker])
    return frames


def _checked(frames: dict[str, pd.DataFrame], tmp_path: Path) -> tuple[dict, dict[str, Path]]:
    """The panel's reports, and each ticker's Data Docs page as the flow writes them (panel/, <ticker>/)."""
    done = validate_panel(frames, MIN_ROWS, LIMITS)
    return done.reports, write_panel_docs(done, tmp_path / "panel", lambda t: tmp_path / t)


def test_a_clean_panel_passes_in_one_page(tmp_path):
    frames = _panel(4, {})
    reports, pages = _checked(frames, tmp_path)
    assert all(r.success for r in reports.values())
    assert len(set(pages.values())) == 1 and tmp_path / "panel" in next(iter(pages.values())).parents
    assert all(o.observed.startswith("panel of 4 tickers: ") for o in reports["T0"].outcomes)
    assert not (tmp_path / "T0").exists()


def test_each_bad_ticker_gets_the_verdict_and_reasons_it_gets_alone(tmp_path):
    """Every kind of bad data at once, one ticker each, among good tickers."""
    bad = {f"B{i}": kind for i, kind in enumerate(sorted(CORRUPTIONS))}
    frames = {**_panel(2, {}), **{t: CORRUPTIONS[k](random_walk_prices(400, t, seed=9)) for t, k in bad.items()}}
    reports, pages = _checked(frames, tmp_path)
    for ticker, kind in bad.items():
        alone = validate_prices(frames[ticker], MIN_ROWS, LIMITS)
        assert not alone.success, f"{kind} should fail validation"
        assert not reports[ticker].success, kind
        assert reports[ticker].summary() == alone.summary(), kind  # its own reasons, not the panel's
        assert tmp_path / ticker in pages[ticker].parents
    for good in ("T0", "T1"):
        assert reports[good].success, reports[good].summary()
        assert tmp_path / "panel" in pages[good].parents
        assert reports[good].outcomes[0].observed.startswith("panel of 2 tickers: ")


def test_several_bad_tickers_are_each_flagged_and_the_rest_pass(tmp_path):
    bad = {"T1": "nan_close", "T3": "duplicate_date", "T4": "too_short"}
    frames = _panel(6, bad)
    reports = validate_panel(frames, MIN_ROWS, LIMITS).reports
    assert {t for t, r in reports.items() if not r.success} == set(bad)
    assert reports["T0"].outcomes[0].observed.startswith("panel of 3 tickers: ")


def test_the_panel_checks_dates_per_ticker_not_across_tickers(tmp_path):
    """Tickers share dates (unique per ticker only), and one ticker's dates may start before another's end."""
    frames = {"A": random_walk_prices(300, "A"), "B": random_walk_prices(300, "B", start="2019-01-01")}
    batch = panel_batch({t: derive(f, LIMITS) for t, f in frames.items()}, LIMITS)
    assert set(batch.frame["sessions"]) == {300} and batch.frame["date_step"].min() >= 1
    reports = validate_panel(frames, MIN_ROWS, LIMITS).reports
    assert all(r.success for r in reports.values())
