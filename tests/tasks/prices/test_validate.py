"""The validate stage: the expectation suite passes clean prices and names each kind of bad batch."""

from __future__ import annotations

import json
import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nightcast.data_docs import write_site
from nightcast.schema import PRICE_COLUMNS
from nightcast.settings import Settings
from nightcast.stage_options import Limits
from tasks.prices.expectations import DERIVED_COLUMNS, build_suite
from tasks.prices.validate import check_report, validate_for_docs, validate_prices
from tasks.prices.validation_report import ExpectationOutcome, ValidationFailed, ValidationReport

MIN_ROWS = 20
SAMPLE_DATA = Path(__file__).resolve().parents[3] / "nightcast" / "sample_data"
BETWEEN = "expect_column_values_to_be_between"


def build_data_docs(frame: pd.DataFrame, min_rows: int, limits: Limits, folder: Path) -> Path:
    """Validate for Data Docs and write the site under folder, as the flow's validate step does; the page."""
    return write_site(validate_for_docs(frame, min_rows, limits)[1], folder)


def prices(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """A valid price frame of n business days: a positive random walk with high >= low."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    spread = np.abs(rng.normal(0.0, 0.5, n))
    frame = pd.DataFrame(
        {
            "ticker": "GOOG",
            "date": pd.bdate_range("2024-01-01", periods=n),
            "open": close * (1 + rng.normal(0.0, 0.002, n)),
            "high": close + spread,
            "low": close - spread,
            "close": close,
            "adj_close": np.nan,
            "volume": rng.integers(1_000, 10_000, n).astype("float64"),
        }
    )
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
        "expect_column_to_exist",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_between",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_increasing",
        "expect_table_row_count_to_be_between",
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
    assert failed(report) == [
        ("expect_column_values_to_be_unique", "date"),
        ("expect_column_values_to_be_increasing", "date"),
    ]
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
    first, second, third = (
        validate_prices(prices(), MIN_ROWS),
        validate_prices(bad, MIN_ROWS),
        validate_prices(prices(), MIN_ROWS),
    )
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
    frame, limits = prices(5000), Limits(today=date(2100, 1, 1))  # 5000 business days from 2024 reach 2043
    validate_prices(frame, MIN_ROWS, limits)
    capfd.readouterr()
    report = validate_prices(frame, MIN_ROWS, limits)
    assert report.success
    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in out + err


# --- derived checks: future dates, gaps between dates, daily moves --------------------------------------------


def outcome(report: ValidationReport, column: str) -> ExpectationOutcome:
    """The outcome of the expectation on one (derived) column."""
    (found,) = [o for o in report.outcomes if o.column == column and o.expectation == BETWEEN]
    return found


def day(frame: pd.DataFrame, row: int) -> str:
    """The ISO date of one row."""
    return str(frame.loc[row, "date"].date())


def test_derived_checks_pass_on_a_clean_frame() -> None:
    report = validate_prices(prices(), MIN_ROWS, Limits(today=date(2024, 2, 26)))
    assert report.success
    assert outcome(report, "days_after_today").observed == "no dates after 2024-02-26"
    assert outcome(report, "gap_days").observed.startswith("largest gap is 3 days (")
    assert outcome(report, "gap_days").observed.endswith("), within max_gap_days=10")
    assert outcome(report, "daily_move").observed.endswith(", within max_daily_move=0.5")
    assert '"max_value":10' in outcome(report, "gap_days").details


def test_suite_uses_the_limits() -> None:
    kwargs = {
        e.column: e.max_value
        for e in build_suite(MIN_ROWS, Limits(0.25, 30)).expectations
        if e.expectation_type == BETWEEN and e.column != "close"
    }
    assert kwargs == {"days_after_today": 0, "gap_days": 30, "daily_move": 0.25}


def test_future_dates_against_a_fixed_today() -> None:
    frame = prices()  # 2024-01-01 .. 2024-02-23
    report = validate_prices(frame, MIN_ROWS, Limits(today=date(2024, 2, 20)))
    assert failed(report) == [(BETWEEN, "days_after_today")]
    assert report.summary() == "3 date(s) in the future (after 2024-02-20), e.g. 2024-02-21, 2024-02-22, 2024-02-23"
    assert validate_prices(frame, MIN_ROWS, Limits(today=date(2024, 2, 23))).success


def test_today_defaults_to_the_utc_date() -> None:
    assert Limits().day() == datetime.now(UTC).date()
    frame = prices()
    frame.loc[39, "date"] = pd.Timestamp(Limits().day()) + pd.Timedelta(days=400)
    assert failed(validate_prices(frame, MIN_ROWS, Limits(max_gap_days=3650))) == [(BETWEEN, "days_after_today")]


def test_gap_longer_than_max_gap_days() -> None:
    frame = prices(60).drop(index=range(20, 40)).reset_index(drop=True)  # 2024-01-26 .. 2024-02-26: 31 days
    assert (day(frame, 19), day(frame, 20)) == ("2024-01-26", "2024-02-26")
    report = validate_prices(frame, MIN_ROWS, Limits(today=date(2030, 1, 1)))
    assert failed(report) == [(BETWEEN, "gap_days")]
    assert report.summary() == (
        "largest gap is 31 days (2024-01-26 .. 2024-02-26), more than max_gap_days=10; raise max_gap_days to accept it"
    )
    assert validate_prices(frame, MIN_ROWS, Limits(max_gap_days=31, today=date(2030, 1, 1))).success


def test_several_gaps_are_counted() -> None:
    frame = prices(80).drop(index=[*range(20, 35), *range(50, 70)]).reset_index(drop=True)
    summary = validate_prices(frame, MIN_ROWS, Limits(today=date(2030, 1, 1))).summary()
    assert summary.startswith("largest gap is 31 days (2024-03-08 .. 2024-04-08)")
    assert summary.endswith("more than max_gap_days=10 (and 1 other gap(s) over it); raise max_gap_days to accept it")


def test_daily_move_larger_than_max_daily_move() -> None:
    frame = prices()
    frame.loc[30, "close"] = frame.loc[29, "close"] * 1.85
    frame.loc[30, "high"] = frame.loc[30, "close"] + 1
    report = validate_prices(frame, MIN_ROWS, Limits(today=date(2030, 1, 1)))
    assert failed(report) == [(BETWEEN, "daily_move")]
    assert report.summary() == (
        f"close moved 85.0% on {day(frame, 30)}, more than max_daily_move=0.5; raise max_daily_move to accept it"
    )
    assert validate_prices(frame, MIN_ROWS, Limits(max_daily_move=0.9, today=date(2030, 1, 1))).success


def test_a_one_day_spike_names_its_first_day() -> None:
    frame = prices()
    frame.loc[30, "close"] = frame.loc[29, "close"] * 0.15  # down 85%, then up ~570% the next day
    summary = validate_prices(frame, MIN_ROWS, Limits(today=date(2030, 1, 1))).summary()
    assert summary == (
        f"close moved 85.0% on {day(frame, 30)}, more than max_daily_move=0.5 "
        "(and 1 other day(s) over it); raise max_daily_move to accept it"
    )


def test_moves_and_gaps_follow_date_order_not_row_order() -> None:
    frame = prices().iloc[::-1].reset_index(drop=True)
    report = validate_prices(frame, MIN_ROWS, Limits(today=date(2030, 1, 1)))
    assert failed(report) == [("expect_column_values_to_be_increasing", "date")]
    assert "within max_gap_days" in outcome(report, "gap_days").observed


def test_bad_closes_do_not_count_as_moves() -> None:
    frame = prices()
    frame.loc[[5, 9], "close"] = [0.0, np.nan]
    report = validate_prices(frame, MIN_ROWS, Limits(today=date(2030, 1, 1)))
    assert [column for _, column in failed(report)] == ["close", "close"]
    assert outcome(report, "daily_move").success


def test_python_date_objects_are_dates() -> None:
    frame = prices().astype({"date": "object"})
    frame["date"] = [d.date() for d in frame["date"]]
    report = validate_prices(frame, MIN_ROWS, Limits(today=date(2024, 2, 22)))
    assert failed(report) == [(BETWEEN, "days_after_today")]
    assert report.summary().startswith("1 date(s) in the future (after 2024-02-22), e.g. 2024-02-23")


def test_missing_date_column_skips_the_derived_checks() -> None:
    report = validate_prices(prices().drop(columns=["date"]), MIN_ROWS)
    assert failed(report) == [("expect_column_to_exist", "date")]
    assert report.summary() == "missing column date (6 dependent expectation(s) skipped)"
    assert not set(DERIVED_COLUMNS) & {o.column for o in report.outcomes}


def test_unusable_dates_skip_the_derived_checks() -> None:
    frame = prices().astype({"date": "object"})
    frame["date"] = "not a date"
    report = validate_prices(frame, MIN_ROWS)
    assert not report.success
    assert outcome(report, "close").success  # the close > 0 check still ran
    assert not set(DERIVED_COLUMNS) & {o.column for o in report.outcomes}
    assert report.outcomes[0].observed == (
        "column date present (3 dependent expectation(s) skipped: its values are not usable)"
    )


def test_non_numeric_close_skips_the_move_check() -> None:
    frame = prices().astype({"close": "object"})
    frame.loc[2, "close"] = "n/a"
    report = validate_prices(frame, MIN_ROWS, Limits(today=date(2030, 1, 1)))
    assert "daily_move" not in {o.column for o in report.outcomes}
    assert outcome(report, "gap_days").success


@pytest.mark.parametrize("n", [0, 1])
def test_too_short_for_gaps_and_moves(n: int) -> None:
    report = validate_prices(prices(n), 0)
    assert report.success
    assert outcome(report, "gap_days").observed == "no consecutive dates to measure a gap"
    assert outcome(report, "daily_move").observed == "no consecutive closes to measure a move"


def test_limits_from_settings_and_bounds() -> None:
    limits = Limits.from_settings(Settings(max_daily_move=0.3, max_gap_days=20), today=date(2024, 1, 2))
    assert limits == Limits(max_daily_move=0.3, max_gap_days=20, today=date(2024, 1, 2))
    assert Limits.from_settings(Settings()) == Limits()
    for bad in ({"max_daily_move": 0.0}, {"max_gap_days": 0}):
        with pytest.raises(ValueError):
            Limits(**bad)
        with pytest.raises(ValueError):
            Settings(**bad)


@pytest.mark.parametrize(
    "name, ticker, gap",
    [("GOOG", "GOOG", "(2006-12-29 .. 2007-01-03)"), ("GSPC", "^GSPC", "(2001-09-10 .. 2001-09-17)")],
)
def test_bundled_real_prices_pass_with_default_limits(name: str, ticker: str, gap: str) -> None:
    frame = pd.read_parquet(SAMPLE_DATA / f"{name}.parquet")
    report = validate_prices(frame, 127, Limits.from_settings(Settings()))
    assert report.success, report.summary()
    assert set(frame["ticker"]) == {ticker}
    assert gap in outcome(report, "gap_days").observed  # GSPC: the market closed after 2001-09-11


# --- report rows and JSON ------------------------------------------------------------------------------------------


def test_rows_has_one_row_per_outcome() -> None:
    frame = prices()
    frame.loc[3, "close"] = np.nan
    report = validate_prices(frame, MIN_ROWS)
    checked_at = pd.Timestamp("2024-03-01 22:00", tz="UTC")
    rows = report.rows("run-1", "GOOG", checked_at)
    assert list(rows.columns) == ["run_id", "ticker", "success", "expectation", "observed", "details", "checked_at"]
    assert len(rows) == len(report.outcomes)
    assert rows["success"].dtype == bool and rows["success"].sum() == len(report.outcomes) - 1
    assert set(rows["run_id"]) == {"run-1"} and set(rows["ticker"]) == {"GOOG"}
    assert (rows["checked_at"] == checked_at).all()
    assert list(rows["observed"]) == [o.observed for o in report.outcomes]
    assert list(rows["expectation"]) == [o.expectation for o in report.outcomes]


def test_to_json_round_trips() -> None:
    frame = prices()
    frame.loc[4, ["high", "low"]] = [90.0, 95.0]
    report = validate_prices(frame, MIN_ROWS)
    data = json.loads(report.to_json())
    assert data["success"] is False
    rebuilt = ValidationReport(
        success=data["success"], outcomes=tuple(ExpectationOutcome(**o) for o in data["outcomes"])
    )
    assert rebuilt == report
    assert data["outcomes"][0] == asdict(report.outcomes[0])


# --- GX Data Docs --------------------------------------------------------------------------------------------------


def test_build_data_docs_writes_a_site_under_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    frame = prices(60).drop(index=range(20, 40)).reset_index(drop=True)
    capfd.readouterr()
    page = build_data_docs(frame, MIN_ROWS, Limits(today=date(2030, 1, 1)), tmp_path / "docs")
    out, err = capfd.readouterr()
    assert out + err == ""
    assert page.is_file() and page.suffix == ".html" and page.is_relative_to(tmp_path / "docs")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "docs"]
    assert list((tmp_path / "cwd").iterdir()) == []
    index = (tmp_path / "docs" / "index.html").read_text()
    assert "nightcast_prices" in index and page.relative_to(tmp_path / "docs").as_posix() in index
    suite_page = (tmp_path / "docs" / "expectations" / "nightcast_prices.html").read_text()
    result_page = page.read_text()
    for text in (
        "days_after_today",
        "gap_days",
        "daily_move",
        "max_gap_days=10",
        "max_daily_move=0.5",
        "close",
        "high",
        "volume",
    ):
        assert text in suite_page and text in result_page


def test_build_data_docs_repeatedly(tmp_path: Path) -> None:
    limits = Limits(today=date(2030, 1, 1))
    first = build_data_docs(prices(), MIN_ROWS, limits, tmp_path / "a")
    second = build_data_docs(prices(5), MIN_ROWS, limits, tmp_path / "a")
    third = build_data_docs(prices(), MIN_ROWS, limits, tmp_path / "b")
    assert second.is_file() and third.is_file() and first != second
    assert validate_prices(prices(), MIN_ROWS, limits).success  # the in-memory path still works afterwards


def test_validate_for_docs_matches_validate_prices_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame, limits = prices(), Limits(max_gap_days=2, today=date(2024, 2, 20))
    monkeypatch.chdir(tmp_path)
    report, validated = validate_for_docs(frame, MIN_ROWS, limits)
    assert list(tmp_path.iterdir()) == []
    assert report == validate_prices(frame, MIN_ROWS, limits)
    assert failed(report) == [(BETWEEN, "days_after_today"), (BETWEEN, "gap_days")]
    assert write_site(validated, tmp_path / "docs").is_file()
