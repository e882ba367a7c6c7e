"""The price suite's rules (tasks.prices.expectations.price_rules) checked with pandas alone, without importing Great
Expectations (5-10 s on 2 cores): the command line's pre-flight, which ends a run on a bad file in about a second
with the report the validate stage would give.

Each rule is evaluated as GX evaluates its expectation type (nulls left out of value checks, every duplicated
value unexpected, the later row of a date that does not increase, the first EXAMPLES unexpected values in row
order), and described by the same words (tasks.prices.validation_text). Where a frame is not of the shape this path
knows (a missing column, a derived column that cannot be computed, dates that are not datetimes or are missing,
a high or a low missing alone), it answers None and the validate stage decides. tests/tasks/prices/test_prevalidate.py
checks that its report equals GX's, outcome by outcome, for every kind of bad file.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from nightcast.schema import REQUIRED_PRICE_COLUMNS
from nightcast.stage_options import Limits
from tasks.prices.expectations import EXAMPLES, Rule, ValidationBatch, derive, price_rules
from tasks.prices.validation_report import ValidationReport
from tasks.prices.validation_text import EXISTS, outcome

NUMERIC = ("open", "high", "low", "close", "volume")


def knows_shape(batch: ValidationBatch) -> bool:
    """Whether this path checks the batch exactly as GX would (else the validate stage decides)."""
    frame = batch.frame
    if batch.unavailable or any(column not in frame.columns for column in REQUIRED_PRICE_COLUMNS):
        return False
    numeric = all(pd.api.types.is_float_dtype(frame[c]) or pd.api.types.is_integer_dtype(frame[c]) for c in NUMERIC)
    one_missing = frame["high"].isna() ^ frame["low"].isna()
    dates = pd.api.types.is_datetime64_dtype(frame["date"]) and not frame["date"].isna().any()
    return numeric and dates and not one_missing.any()


def _unexpected(rule: Rule, frame: pd.DataFrame) -> pd.Series:
    """Per row, whether the rule finds it unexpected (False for rows GX leaves out)."""
    kind, kwargs = rule.kind, rule.kwargs
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = frame[kwargs["column_A"]], frame[kwargs["column_B"]]
        both_missing = a.isna() & b.isna()
        return ~both_missing & ~((a >= b) if kwargs.get("or_equal") else (a > b))
    column = frame[kwargs["column"]]
    if kind == "expect_column_values_to_not_be_null":
        return column.isna()
    present = column.notna()
    values = column[present]
    if kind == "expect_column_values_to_be_unique":
        bad = values.duplicated(keep=False)
    elif kind == "expect_column_values_to_be_increasing":
        raw = values.to_numpy()
        steps = (raw[1:] > raw[:-1]) if kwargs.get("strictly") else (raw[1:] >= raw[:-1])
        bad = pd.Series(np.concatenate([[False], ~steps]), index=values.index)
    elif kind == "expect_column_values_to_be_between":
        bad = ~_within(values, kwargs)
    else:
        raise ValueError(f"no quick check for {kind}")
    return pd.Series(False, index=column.index).mask(present, bad.reindex(column.index, fill_value=False))


def _within(values: pd.Series, kwargs: dict[str, Any]) -> pd.Series:
    """Whether each value lies within the rule's bounds (strict where the rule says so)."""
    ok = pd.Series(True, index=values.index)
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None:
        ok &= (values > low) if kwargs.get("strict_min") else (values >= low)
    if high is not None:
        ok &= (values < high) if kwargs.get("strict_max") else (values <= high)
    return ok


def _result(rule: Rule, frame: pd.DataFrame) -> tuple[bool, dict[str, Any]]:
    """Whether the rule holds, and the parts of GX's result that its description reads."""
    if rule.kind == EXISTS:
        return rule.kwargs["column"] in frame.columns, {}
    if rule.kind == "expect_table_row_count_to_be_between":
        return len(frame) >= rule.kwargs["min_value"], {"observed_value": len(frame)}
    bad = _unexpected(rule, frame)
    if rule.kind == "expect_column_pair_values_a_to_be_greater_than_b":
        rows = frame.loc[bad, [rule.kwargs["column_A"], rule.kwargs["column_B"]]].head(EXAMPLES)
        examples: list[Any] = list(rows.itertuples(index=False, name=None))
    else:
        examples = list(frame.loc[bad, rule.kwargs["column"]].head(EXAMPLES))
    count = int(bad.sum())
    return count == 0, {"unexpected_count": count, "partial_unexpected_list": examples}


def prevalidate_prices(frame: pd.DataFrame, min_rows: int, limits: Limits | None = None) -> ValidationReport | None:
    """The report the validate stage would give the frame (its outcomes in suite order), or None when the frame
    is not of a shape this path knows."""
    batch = derive(frame, limits or Limits())
    if not knows_shape(batch):
        return None
    outcomes = []
    for rule in price_rules(min_rows, batch.limits):
        success, result = _result(rule, batch.frame)
        config = SimpleNamespace(type=rule.kind, kwargs=rule.kwargs)
        checked = SimpleNamespace(expectation_config=config, exception_info={}, success=success, result=result)
        outcomes.append(outcome(checked, {}, batch))
    return ValidationReport(success=all(o.success for o in outcomes), outcomes=tuple(outcomes))
