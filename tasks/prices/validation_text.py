"""What an expectation saw, in the words a person would use (the messages of a failed validation)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from tasks.prices.expectations import EXAMPLES, ValidationBatch
from tasks.prices.validation_report import ExpectationOutcome

EXISTS = "expect_column_to_exist"
_TEXT = {
    "expect_column_values_to_not_be_null": "{column} has {count} null value(s)",
    "expect_column_values_to_be_between": "{column} has {count} value(s) not > {min_value}",
    "expect_column_pair_values_a_to_be_greater_than_b": (
        "{column_A} < {column_B} in {count} row(s) as ({column_A}, {column_B})"
    ),
    "expect_column_values_to_be_unique": "{column} has {count} duplicated value(s)",
    "expect_column_values_to_be_increasing": "{column} is not strictly increasing at {count} row(s)",
}


def columns_of(kwargs: dict[str, Any]) -> tuple[str, ...]:
    """The columns an expectation reads, from its kwargs."""
    return tuple(kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs)


def kwargs_json(kwargs: dict[str, Any]) -> str:
    """An expectation's kwargs as compact, sorted JSON without GX's batch_id."""
    return json.dumps(
        {k: v for k, v in kwargs.items() if k != "batch_id"}, sort_keys=True, default=str, separators=(",", ":")
    )


def _example(value: Any) -> str:
    """A short text for one unexpected value: plain numbers, dates without midnight, pairs in brackets."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_example(item) for item in value) + ")"
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    value = value.item() if hasattr(value, "item") else value
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _error(info: dict[str, Any] | None) -> str:
    """The distinct exception messages in GX's flat or per-metric exception_info."""
    info = info or {}
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    return "; ".join(dict.fromkeys(str(v.get("exception_message")) for v in entries if v.get("raised_exception")))


def _over(count: int, what: str) -> str:
    """' (and N other WHAT over it)' when more than one value broke a limit."""
    return f" (and {count - 1} other {what}(s) over it)" if count > 1 else ""


def _future_text(batch: ValidationBatch, count: int, success: bool) -> str:
    """Dates after today, with the earliest few."""
    if success:
        return f"no dates after {batch.today}"
    ahead = np.unique(batch.days[batch.frame["days_after_today"].to_numpy() > 0])
    return f"{count} date(s) in the future (after {batch.today}), e.g. {', '.join(map(str, ahead[:EXAMPLES]))}"


def _gap_text(batch: ValidationBatch, count: int, success: bool) -> str:
    """The largest gap between consecutive dates, against max_gap_days."""
    gaps, limit = batch.frame["gap_days"].to_numpy(), batch.limits.max_gap_days
    if np.isnan(gaps).all():
        return "no consecutive dates to measure a gap"
    at = int(np.nanargmax(gaps))
    text = f"largest gap is {gaps[at]:.0f} days ({batch.days[at] - int(gaps[at])} .. {batch.days[at]})"
    if success:
        return f"{text}, within max_gap_days={limit}"
    return f"{text}, more than max_gap_days={limit}{_over(count, 'gap')}; raise max_gap_days to accept it"


def _move_text(batch: ValidationBatch, count: int, success: bool) -> str:
    """The largest day-over-day move of the close (the first one over max_daily_move when failed)."""
    moves, limit = batch.frame["daily_move"].to_numpy(), batch.limits.max_daily_move
    if np.isnan(moves).all():
        return "no consecutive closes to measure a move"
    if success:
        at = int(np.nanargmax(moves))
        return f"largest move: close moved {moves[at]:.1%} on {batch.days[at]}, within max_daily_move={limit}"
    over = np.flatnonzero(moves > limit)
    at = int(over[np.argmin(batch.days[over])])
    return (
        f"close moved {moves[at]:.1%} on {batch.days[at]}, more than max_daily_move={limit}"
        f"{_over(count, 'day')}; raise max_daily_move to accept it"
    )


_DERIVED_TEXT = {"days_after_today": _future_text, "gap_days": _gap_text, "daily_move": _move_text}
_PANEL_TEXT = {  # the panel suite's per-ticker columns (tasks.prices.panel_validate): passed, failed
    "sessions": ("every ticker has at least {min_value:.0f} rows", "{count} row(s) of tickers under {min_value:.0f}"),
    "date_step": ("dates strictly increasing per ticker", "{count} row(s) not after their ticker's previous date"),
}


def _observed(kind: str, kwargs: dict[str, Any], result: dict[str, Any], success: bool, batch: ValidationBatch) -> str:
    """Describe what an expectation saw, in the words a person would use."""
    if kind == EXISTS:
        return f"column {kwargs['column']} present" if success else f"missing column {kwargs['column']}"
    if kind == "expect_table_row_count_to_be_between":
        rows, need = result.get("observed_value"), kwargs.get("min_value")
        return (
            f"{rows} rows (need at least {need})"
            if success
            else f"only {rows} rows, need at least {need} (a full window of time_step closes for every candidate)"
        )
    count = result.get("unexpected_count") or 0
    if kwargs.get("column") in _DERIVED_TEXT:
        return _DERIVED_TEXT[kwargs["column"]](batch, count, success)
    if kwargs.get("column") in _PANEL_TEXT:
        return _PANEL_TEXT[kwargs["column"]][0 if success else 1].format(count=count, **kwargs)
    text = _TEXT.get(kind, f"{kind}: {{count}} unexpected value(s)").format(count=count, **kwargs)
    shown = [_example(v) for v in (result.get("partial_unexpected_list") or [])[:EXAMPLES]]
    return f"{text} (e.g. {', '.join(shown)})" if shown and not success else text


def outcome(validation: Any, skipped: dict[str, int], batch: ValidationBatch) -> ExpectationOutcome:
    """Translate one GX ExpectationValidationResult into an ExpectationOutcome."""
    kind, kwargs = validation.expectation_config.type, validation.expectation_config.kwargs
    columns = columns_of(kwargs)
    column = ">=".join(columns) if len(columns) == 2 else (columns[0] if columns else None)
    error = _error(validation.exception_info)
    success = bool(validation.success) and not error
    if error:
        observed = f"could not check {kind} on {column or 'the table'}: {error}"
    else:
        observed = _observed(kind, kwargs, validation.result or {}, success, batch)
    if kind == EXISTS and column and skipped.get(column, 0):
        why = ": its values are not usable" if success else ""
        observed += f" ({skipped[column]} dependent expectation(s) skipped{why})"
    details = kwargs_json(kwargs)
    return ExpectationOutcome(
        expectation=kind,
        column=column,
        success=success,
        observed=observed,
        details=f"{details} error: {error}" if error else details,
    )
