"""The quick check (pandas alone) gives the validate stage's report, outcome by outcome, on every kind of file."""

import datetime as dt

import pandas as pd
import pytest

from nightcast.price_sources import FileSource
from nightcast.stage_options import Limits
from tasks.prices.prevalidate import prevalidate_prices
from tasks.prices.validate import validate_prices
from tests.reliability.test_bad_input import BAD_FILES, FIRST_NIGHT_FILES, yahoo_layout

CASES = {name: make for name, (make, _, validated) in {**BAD_FILES, **FIRST_NIGHT_FILES}.items() if validated}
CASES |= {
    "good": yahoo_layout,
    "many_failures": lambda: yahoo_layout(
        edits={(5, "Close"): -1.0, (6, "Close"): -2.0, (7, "Close"): 0.0, (8, "Close"): -4.0, (30, "High"): 1.0}
    ).iloc[[0, 2, 1, *range(3, 150)]],
    "header_and_two_rows": lambda: yahoo_layout(n=2),
}


def parsed(tmp_path, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as the file source hands it to validation."""
    frame.to_csv(tmp_path / "prices.csv", index=False)
    return FileSource(tmp_path / "prices.csv").fetch("ACME", None, None)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("min_rows", [13, 103])
def test_the_quick_check_reports_what_great_expectations_reports(tmp_path, case, min_rows):
    frame = parsed(tmp_path, CASES[case]())
    limits = Limits(max_daily_move=0.5, max_gap_days=10, today=dt.date(2026, 1, 15))
    quick = prevalidate_prices(frame, min_rows, limits)
    assert quick is not None
    assert quick == validate_prices(frame, min_rows, limits)


def test_a_frame_of_an_unknown_shape_is_left_to_the_validate_stage(tmp_path):
    frame = parsed(tmp_path, yahoo_layout())
    assert prevalidate_prices(frame.drop(columns=["close"]), 13) is None
    assert prevalidate_prices(frame.assign(date=frame["date"].astype(str)), 13) is None
    assert prevalidate_prices(frame.assign(low=frame["low"].where(frame.index != 3)), 13) is None
