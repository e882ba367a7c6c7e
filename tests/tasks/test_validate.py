"""The validate stage: the expectation suite passes clean prices and names each kind of bad batch."""

from __future__ import annotations

import os
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from nightcast.schema import PRICE_COLUMNS
from tasks.validate import (
    ExpectationOutcome, ValidationFailed, ValidationReport, build_suite, check_report, validate_prices,
)

MIN_ROWS = 20


def prices(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """A valid price frame of n business days: a positive random walk with high >= low."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    spread = np.abs(rng.normal(0.0, 0.5, n))
    frame = pd.DataFrame({
        "ticker": "GOOG",
        "date": pd.bdate_range("2024-01-01", periods=n),
        "open": close * (1 + rng.normal(0.0, 0.002, n)),
        "high": close + spread,
        "low": close - spread,
        "close": close,
        "adj_close": np.nan,
        "volume": rng.integers(1_000, 10_000, n).astype("float64"),
    })
    return frame[list(PRICE_COLUMNS)]


def failed(report: ValidationReport) -> list[tuple[str, str | None]]:
    """(expectation, column) of every failure."""
    return [(o.expectation, o.column) for o in report.failures()]


def test_valid_frame_passes() -> None:
    report = validate_prices(prices(), MIN_ROWS)
    assert report.success
    assert report.failures() == ()
    assert report.summary() == ""
    assert len(report.outcomes) == len(build_suite(MIN_ROWS).expectations)
    assert all(isinstance(o, ExpectationOutcome) and o.success for o in report.outcomes)
    check_report("GOOG", report)


def test_outcomes_carry_column_and_details() -> None:
    outcomes = {(o.expectation, o.column): o for o in validate_prices(prices(), MIN_ROWS).outcomes}
    pair = outcomes[("expect_column_pair_values_a_to_be_greater_than_b", "high>=low")]
    assert '"or_equal":true' in pair.details and "batch_id" not in pair.details
    assert ("expect_table_row_count_to_be_between", None) in outcomes
    assert ("expect_column_to_exist", "close") in outcomes


def test_suite_holds_the_required_expectations() -> None:
    kinds = {e.expectation_type for e in build_suite(121).expectations}
    assert kinds == {
        "expect_column_to_exist", "expect_column_values_to_not_be_null", "expect_column_values_to_be_between",
        "expect_column_pair_values_a_to_be_greater_than_b", "expect_column_values_to_be_unique",
        "expect_column_values_to_be_increasing", "expect_table_row_count_to_be_between",
    }


def test_nan_close() -> None:
    frame = prices()
    frame.loc[[3, 7], "close"] = np.nan
    report = validate_prices(frame, MIN_ROWS)
    assert not report.success
    assert failed(report) == [("expect_column_values_to_not_be_null", "close")]
    assert report.summary() == "close has 2 null value(s) (e.g. nan, nan)"


@pytest.mark.parametrize("value", [0.0, -3.5])
def test_non_positive_close(value: float) -> None:
    frame = prices()
    frame.loc[5, "close"] = value
    report = validate_prices(frame, MIN_ROWS)
    assert failed(report) == [("expect_column_values_to_be_between", "close")]
    assert "close has 1 value(s) not > 0" in report.summary()
    assert str(value) in report.summary()


def test_high_below_low() -> None:
    frame = prices()
    frame.loc[4, ["high", "low"]] = [90.0, 95.0]
    report = validate_prices(frame, MIN_ROWS)
    assert failed(report) == [("expect_column_pair_values_a_to_be_greater_than_b", "high>=low")]
    assert report.summary() == "high < low in 1 row(s) as (high, low) (e.g. (90, 95))"


def test_missing_date_value() -> None:
    frame = prices()
    frame.loc[8, "date"] = pd.NaT
    report = validate_prices(frame, MIN_ROWS)
    assert ("expect_column_values_to_not_be_null", "date") in failed(report)
    assert "date has 1 null value(s) (e.g. NaT)" in report.summary()


def test_duplicate_date() -> None:
    frame = prices()
    frame.loc[6, "date"] = frame.loc[5, "date"]
    report = validate_prices(frame, MIN_ROWS)
    # a repeated date is also a step that is not strictly increasing: both expectations see it
    assert failed(report) == [("expect_column_values_to_be_unique", "date"),
                              ("expect_column_values_to_be_increasing", "date")]
    day = str(frame.loc[5, "date"].date())
    assert report.summary().splitlines()[0] == f"date has 2 duplicated value(s) (e.g. {day}, {day})"


def test_unsorted_dates() -> None:
    frame = prices()
    frame.loc[[10, 11], "date"] = frame.loc[[11, 10], "date"].to_numpy()
    report = validate_prices(frame, MIN_ROWS)
    assert failed(report) == [("expect_column_values_to_be_increasing", "date")]
    assert report.summary().startswith("date is not strictly increasing at 1 row(s) (e.g. ")


def test_too_few_rows() -> None:
    report = validate_prices(prices(50), 121)
    assert failed(report) == [("expect_table_row_count_to_be_between", None)]
    assert "only 50 rows, need at least 121" in report.summary()


def test_empty_frame_fails_on_row_count_only() -> None:
    report = validate_prices(prices().iloc[0:0], MIN_ROWS)
    assert failed(report) == [("expect_table_row_count_to_be_between", None)]
    assert "only 0 rows" in report.summary()


def test_missing_close_column() -> None:
    report = validate_prices(prices().drop(columns=["close"]), MIN_ROWS)
    assert failed(report) == [("expect_column_to_exist", "close")]
    summary = report.summary()
    assert summary.startswith("missing column close")
    assert "Traceback" not in summary and "BatchData" not in summary
    assert all("Traceback" not in o.details for o in report.outcomes)


def test_missing_high_column_skips_the_pair_check() -> None:
    report = validate_prices(prices().drop(columns=["high"]), MIN_ROWS)
    assert failed(report) == [("expect_column_to_exist", "high")]
    assert "high>=low" not in [o.column for o in report.outcomes]


def test_non_numeric_close_is_reported_not_raised() -> None:
    frame = prices().astype({"close": "object"})
    frame.loc[2, "close"] = "n/a"
    report = validate_prices(frame, MIN_ROWS)
    assert not report.success
    assert "close" in report.summary()


def test_validation_failed_message() -> None:
    frame = prices()
    frame.loc[3, "close"] = np.nan
    frame.loc[4, ["high", "low"]] = [90.0, 95.0]
    report = validate_prices(frame, MIN_ROWS)
    with pytest.raises(ValidationFailed) as caught:
        check_report("GOOG", report)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"validation failed for GOOG: 2 of {len(report.outcomes)} expectations failed: ")
    assert "close has 1 null value(s)" in message and "high < low in 1 row(s)" in message
    assert caught.value.report is report
    assert isinstance(caught.value, ValueError)


def test_validation_failed_pickles() -> None:
    report = validate_prices(prices(10), MIN_ROWS)
    error = pickle.loads(pickle.dumps(ValidationFailed("GOOG", report)))
    assert error.report == report and str(error) == str(ValidationFailed("GOOG", report))


def test_repeated_calls_work() -> None:
    bad = prices()
    bad.loc[0, "close"] = 0.0
    first, second, third = (validate_prices(prices(), MIN_ROWS), validate_prices(bad, MIN_ROWS),
                            validate_prices(prices(), MIN_ROWS))
    assert first.success and third.success and not second.success
    assert first == third


def test_concurrent_calls_work() -> None:
    frames = [prices(), prices(5), prices(), prices(5)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(lambda frame: validate_prices(frame, MIN_ROWS), frames))
    assert [report.success for report in reports] == [True, False, True, False]


def test_writes_no_files(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    validate_prices(prices(), MIN_ROWS)
    assert os.listdir(tmp_path) == []


def test_input_is_not_mutated() -> None:
    frame = prices()
    frame.loc[3, "close"] = np.nan
    before = frame.copy(deep=True)
    validate_prices(frame, MIN_ROWS)
    pd.testing.assert_frame_equal(frame, before)
    assert list(frame.columns) == list(PRICE_COLUMNS)


def test_quiet_on_5000_rows(capfd: pytest.CaptureFixture[str]) -> None:
    frame = prices(5000)
    validate_prices(frame, MIN_ROWS)
    capfd.readouterr()
    report = validate_prices(frame, MIN_ROWS)
    assert report.success
    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in out + err
