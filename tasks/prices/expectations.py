"""The price expectation suite, versioned with this code, and the columns derived for it before validation."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nightcast.gx_contexts import gx_module
from nightcast.schema import REQUIRED_PRICE_COLUMNS
from nightcast.stage_options import Limits

if TYPE_CHECKING:
    import great_expectations as gx

EXAMPLES = 3
"""Unexpected values quoted per failed expectation."""
DERIVED_COLUMNS: tuple[str, ...] = ("days_after_today", "gap_days", "daily_move")
"""Columns computed from date (all three) and close (daily_move) on a copy of the batch before validation."""


@dataclass(frozen=True)
class Rule:
    """One expectation of the price suite as plain data: its Great Expectations class name and arguments. The
    suite is built from these (build_suite), and checked without importing GX by tasks.prices.prevalidate."""

    expectation: str
    kwargs: dict[str, Any]
    description: str | None = None

    @property
    def kind(self) -> str:
        """GX's expectation type (ExpectColumnToExist -> expect_column_to_exist)."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.expectation).lower()


def price_rules(min_rows: int, limits: Limits | None = None) -> list[Rule]:
    """The price expectation suite's rules, versioned with this code (bounds of value ranges as floats, as GX
    keeps them)."""
    limits = limits or Limits()
    between = "ExpectColumnValuesToBeBetween"
    return [
        *(Rule("ExpectColumnToExist", {"column": column}) for column in REQUIRED_PRICE_COLUMNS),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "close"}),
        Rule(between, {"column": "close", "min_value": 0.0, "strict_min": True}),
        Rule("ExpectColumnPairValuesAToBeGreaterThanB", {"column_A": "high", "column_B": "low", "or_equal": True}),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "date"}),
        Rule("ExpectColumnValuesToBeUnique", {"column": "date"}),
        Rule("ExpectColumnValuesToBeIncreasing", {"column": "date", "strictly": True}),
        Rule("ExpectTableRowCountToBeBetween", {"min_value": min_rows}),
        *_derived_rules(limits),
    ]


def _derived_rules(limits: Limits) -> list[Rule]:
    """Rules on the derived columns; their descriptions name the setting (shown in Data Docs)."""
    between, gap, move = "ExpectColumnValuesToBeBetween", limits.max_gap_days, limits.max_daily_move
    return [
        Rule(
            between,
            {"column": "days_after_today", "max_value": 0.0},
            "no date after today: days_after_today (calendar days from today, UTC) must be <= 0",
        ),
        Rule(
            between,
            {"column": "gap_days", "max_value": float(gap)},
            f"gap_days (calendar days since the previous date) must be <= max_gap_days={gap}",
        ),
        Rule(
            between,
            {"column": "daily_move", "max_value": float(move)},
            f"daily_move (|close / previous close - 1| in date order) must be <= max_daily_move={move}",
        ),
    ]


def build_suite(min_rows: int, limits: Limits | None = None) -> gx.ExpectationSuite:
    """The price expectation suite: price_rules as GX expectations."""
    gx = gx_module()
    return gx.ExpectationSuite(
        name="nightcast_prices",
        expectations=[
            getattr(gx.expectations, rule.expectation)(**rule.kwargs, description=rule.description)
            for rule in price_rules(min_rows, limits)
        ],
    )


@dataclass(frozen=True)
class ValidationBatch:
    """The frame GX validates (a shallow copy plus derived columns) and what the messages need to know."""

    frame: pd.DataFrame
    days: np.ndarray  # each row's date as datetime64[D] (NaT where unknown)
    limits: Limits
    today: date
    unavailable: dict[str, str]  # derived column -> the source column that is missing or unusable


def _days(frame: pd.DataFrame) -> np.ndarray | None:
    """The date column as calendar days (datetime64[D]), or None when it is missing or not dates."""
    column = frame.get("date")
    if column is None or pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return None
    try:
        with warnings.catch_warnings():  # text dates of no single format: parsed one by one, quietly
            warnings.simplefilter("ignore", UserWarning)
            return pd.to_datetime(column, utc=True).dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    except (ValueError, TypeError, OverflowError, AttributeError):
        return None


def _closes(frame: pd.DataFrame) -> np.ndarray | None:
    """Positive closes as floats (NaN elsewhere: bad closes have their own expectations), or None."""
    column = frame.get("close")
    if column is None or not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return None
    close = column.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(close > 0, close, np.nan)


def _gaps(days: np.ndarray) -> np.ndarray:
    """Per row, calendar days since the previous distinct date (NaN for the first date and NaT)."""
    known = ~np.isnat(days)
    distinct = np.unique(days[known])
    steps = np.concatenate([[np.nan], np.diff(distinct).astype("float64")])
    gaps = np.full(len(days), np.nan)
    gaps[known] = steps[np.searchsorted(distinct, days[known])]
    return gaps


def _moves(days: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Per row, |close / previous close - 1| with rows in date order (NaN where either close is unknown)."""
    order = np.argsort(days, kind="stable")
    order = order[~np.isnat(days[order])]
    moves = np.full(len(days), np.nan)
    ordered = close[order]
    with np.errstate(all="ignore"):  # an infinite close gives NaN or inf, not a warning
        moves[order[1:]] = np.abs(ordered[1:] / ordered[:-1] - 1)
    return moves


def derive(frame: pd.DataFrame, limits: Limits) -> ValidationBatch:
    """A shallow copy of the frame with the derived columns whose sources exist and are usable."""
    today, days, close = limits.day(), _days(frame), _closes(frame)
    batch, unavailable = frame.copy(deep=False), {}
    if days is None:
        unavailable.update(dict.fromkeys(DERIVED_COLUMNS, "date"))
        days = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    else:
        ahead = days - np.datetime64(today, "D")
        batch["days_after_today"] = np.where(np.isnat(ahead), np.nan, ahead.astype("int64"))
        batch["gap_days"] = _gaps(days)
    if close is None:
        unavailable.setdefault("daily_move", "close")
    elif "daily_move" not in unavailable:
        batch["daily_move"] = _moves(days, close)
    return ValidationBatch(batch, days, limits, today, unavailable)
